"""Writes on users."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from atrium.accounts.models import User
from atrium.accounts.selectors import user_authenticate
from atrium.core.client_address import client_address
from atrium.core.errors import AtriumError, ValidationFailedError
from atrium.core.ratelimit import (
    FailureCounter,
    RateLimitedError,
    failure_refund,
    failure_reserve,
    retry_seconds,
)


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


def external_identity_user(
    *,
    provider: str,
    issuer: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    create: bool,
    name: str = "",
) -> User | None:
    """The user an OpenID Connect identity signs in as, linking it on first use.

    Known `(issuer, subject)`: its user. Otherwise a user with the same *verified* email is linked, and
    with `create` a new user (no password) is made. An unverified email never links: anyone can claim
    one at some providers. None when the identity may not sign in.
    """
    from atrium.accounts.models import ExternalIdentity

    linked = ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if linked is not None:
        ExternalIdentity.objects.filter(id=linked.id).update(last_login_at=timezone.now())
        return linked.user if linked.user.is_active else None
    if not email or not email_verified:
        return None
    normalised = _normalise_email(email)
    user = User.objects.filter(email=normalised).first()
    if user is None:
        if not create:
            return None
        user, _ = user_get_or_create(email=normalised, name=name)
    if not user.is_active:
        return None
    try:
        with transaction.atomic():
            ExternalIdentity.objects.create(
                user=user, provider=provider, issuer=issuer, subject=subject, last_login_at=timezone.now()
            )
    except IntegrityError:  # the same identity signed in twice at once: the first link stands
        found = ExternalIdentity.objects.select_related("user").get(issuer=issuer, subject=subject)
        return found.user
    return user


def _login_counters(*, email: str, address: str) -> list[FailureCounter]:
    # The account by a digest of its normalised email: Redis keys hold no addresses of people.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    window = settings.ATRIUM_LOGIN_LOCKOUT_SECONDS
    return [
        FailureCounter(f"login:account:{account}", settings.ATRIUM_LOGIN_FAILURES_PER_ACCOUNT, window),
        FailureCounter(f"login:address:{address}", settings.ATRIUM_LOGIN_FAILURES_PER_ADDRESS, window),
    ]


def user_sign_in(*, request: HttpRequest, email: str, password: str) -> User:
    """The user these credentials sign in as, for the API's login and the admin's login form.

    Throttled against password guessing: past `ATRIUM_LOGIN_FAILURES_PER_ACCOUNT` failures on the
    account, or `ATRIUM_LOGIN_FAILURES_PER_ADDRESS` from the client's address, within
    `ATRIUM_LOGIN_LOCKOUT_SECONDS`, every attempt is refused (RateLimitedError, 429) until that window
    ends, even with the right password: else the lockout would tell a guesser when they are right.
    Only failures count, so a user who signs in correctly is never slowed; each attempt is counted as
    one before the password is checked and given back on success, so parallel guesses cannot pass the
    limit together.
    """
    counters = _login_counters(email=email, address=client_address(request))
    wait = failure_reserve(counters)
    if wait > 0:
        seconds = retry_seconds(wait)
        raise RateLimitedError(
            f"Too many failed sign-in attempts. Try again in {seconds} s.", retry_after=seconds
        )
    user = user_authenticate(request=request, email=email, password=password)
    if user is None:
        raise AtriumError("Invalid email or password.", code="invalid_credentials")
    failure_refund(counters)
    return user
