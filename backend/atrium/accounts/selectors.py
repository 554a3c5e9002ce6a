"""Reads on users."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest

from atrium.accounts.models import User


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User | None:
    user = authenticate(request, username=email.strip().lower(), password=password)
    return user if isinstance(user, User) and user.is_active else None


def user_active_by_email(*, email: str) -> User | None:
    """The active user with this email (case-insensitive), or None."""
    return User.objects.filter(email__iexact=email.strip(), is_active=True).first()
