"""Reads on threads. Threads belong to the user who made them; org admins see every thread of the org."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Permission, current_scope
from atrium.runtime.models import Thread


def thread_queryset() -> QuerySet[Thread]:
    """Every thread the current caller may see: the one place the ownership rule lives."""
    scope = current_scope()
    queryset = scope.narrow(Thread.objects.all(), "threads")
    if scope.has(Permission.MANAGE_ORG):
        return queryset
    return queryset.filter(owner_id=scope.user_id)


def as_uuid(value: str | uuid.UUID, what: str = "thread") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFoundError(f"{what.capitalize()} not found.") from None


def thread_get(*, thread_id: str | uuid.UUID) -> Thread:
    try:
        return thread_queryset().get(id=as_uuid(thread_id))
    except Thread.DoesNotExist:
        raise NotFoundError(f"Thread with ID {thread_id} not found") from None


def thread_get_owned(*, thread_id: str | uuid.UUID) -> Thread:
    """A thread of the caller's own: stricter than `thread_get`, org admins included (404 otherwise)."""
    try:
        return thread_queryset().get(id=as_uuid(thread_id), owner_id=current_scope().user_id)
    except Thread.DoesNotExist:
        raise NotFoundError(f"Thread with ID {thread_id} not found") from None


def thread_search(
    *,
    metadata: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    ids: list[uuid.UUID] | None = None,
    status: str | None = None,
) -> QuerySet[Thread]:
    queryset = thread_queryset()
    if metadata:
        queryset = queryset.filter(metadata__contains=metadata)
    if values:
        queryset = queryset.filter(values__contains=values)
    if ids is not None:
        queryset = queryset.filter(id__in=ids)
    if status:
        queryset = queryset.filter(status=status)
    return queryset
