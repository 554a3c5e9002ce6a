"""Writes on users."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from atrium.accounts.models import User
from atrium.core.errors import ValidationFailedError


def _normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if "@" not in cleaned or cleaned.startswith("@") or cleaned.endswith("@"):
        raise ValidationFailedError(f"{email!r} is not an email address.", code="invalid_email")
    return cleaned


def user_create(*, email: str, password: str | None = None, name: str = "", is_staff: bool = False) -> User:
    """Create a user. Without a password the account cannot log in until one is set."""
    user = User(email=_normalise_email(email), name=name, is_staff=is_staff)
    user.set_password(password)  # None gives an unusable password
    user.save()
    return user


def user_get_or_create(*, email: str, name: str = "") -> tuple[User, bool]:
    """Race-free: the unique constraint on email decides, not an exists() check."""
    normalised = _normalise_email(email)
    try:
        return User.objects.get(email=normalised), False
    except User.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return user_create(email=normalised, name=name), True
    except IntegrityError:
        return User.objects.get(email=normalised), False


def user_set_password(*, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
