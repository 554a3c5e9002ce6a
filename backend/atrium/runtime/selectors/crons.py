"""Reads on crons. Like threads, a cron belongs to the user who made it; org admins see every cron."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from atrium.assistants.graphs import available_graph_ids, default_assistant_id_for
from atrium.core.errors import NotFoundError, ValidationFailedError
from atrium.core.tenancy import Permission, current_scope
from atrium.runtime.models import Cron

SORT_FIELDS = {
    "cron_id": "id",
    "assistant_id": "assistant_id",
    "thread_id": "thread_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "next_run_date": "next_run_date",
    "end_time": "end_time",
}


def cron_queryset() -> QuerySet[Cron]:
    """Every cron the current caller may see: the one place the ownership rule lives."""
    scope = current_scope()
    queryset = scope.narrow(Cron.objects.all(), "crons")
    if scope.has(Permission.MANAGE_ORG):
        return queryset
    if scope.user_id is None:
        return queryset.none()
    return queryset.filter(user_id=scope.user_id)


def cron_get(*, cron_id: str | uuid.UUID) -> Cron:
    try:
        return cron_queryset().get(id=cron_id if isinstance(cron_id, uuid.UUID) else uuid.UUID(str(cron_id)))
    except (ValueError, Cron.DoesNotExist):
        raise NotFoundError(f"Cron with ID {cron_id} not found") from None


def assistant_uuid(assistant_id: str) -> uuid.UUID:
    """An assistant id as crons store it: a UUID, or a graph's name standing for its default assistant."""
    try:
        return uuid.UUID(str(assistant_id))
    except ValueError:
        if assistant_id not in available_graph_ids():
            raise ValidationFailedError(
                f"Invalid assistant: '{assistant_id}'. Must be either a valid assistant UUID or one of the "
                f"registered graphs: {sorted(available_graph_ids())}"
            ) from None
        return default_assistant_id_for(current_scope().org, assistant_id)


def cron_search(
    *,
    assistant_id: str | None = None,
    thread_id: str | uuid.UUID | None = None,
    enabled: bool | None = None,
    metadata: dict[str, Any] | None = None,
) -> QuerySet[Cron]:
    queryset = cron_queryset()
    if assistant_id:
        queryset = queryset.filter(assistant_id=assistant_uuid(assistant_id))
    if thread_id:
        try:
            queryset = queryset.filter(thread_id=uuid.UUID(str(thread_id)))
        except ValueError:
            raise ValidationFailedError("Invalid thread ID: must be a UUID") from None
    if enabled is not None:
        queryset = queryset.filter(enabled=enabled)
    if metadata:
        queryset = queryset.filter(metadata__contains=metadata)
    return queryset


def cron_page(
    queryset: QuerySet[Cron], *, sort_by: str | None, sort_order: str | None, offset: int, limit: int
) -> tuple[list[Cron], int]:
    """One page of crons (newest first unless asked otherwise) and the total before paging."""
    field = SORT_FIELDS.get(sort_by or "created_at", "created_at")
    direction = "" if sort_order == "asc" else "-"
    ordered = queryset.order_by(f"{direction}{field}", f"{direction}id")
    return list(ordered[offset : offset + limit]), queryset.count()
