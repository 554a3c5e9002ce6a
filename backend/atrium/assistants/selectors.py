"""Reads on assistants, always within the current org."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from atrium.assistants.models import Assistant, AssistantVersion
from atrium.core.errors import NotFoundError
from atrium.core.tenancy import current_scope


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFoundError("Assistant not found.") from exc


def assistant_queryset() -> QuerySet[Assistant]:
    """The org's assistants, less those an authorization handler's filter hides from this request."""
    return current_scope().narrow(Assistant.objects.all(), "assistants")


def assistant_get(*, assistant_id: uuid.UUID | str) -> Assistant:
    try:
        return assistant_queryset().get(id=_as_uuid(assistant_id))
    except Assistant.DoesNotExist as exc:
        raise NotFoundError("Assistant not found.") from exc


def assistant_list(
    *, graph_id: str | None = None, name: str | None = None, metadata: dict[str, Any] | None = None
) -> QuerySet[Assistant]:
    queryset = assistant_queryset()
    if graph_id:
        queryset = queryset.filter(graph_id=graph_id)
    if name:
        queryset = queryset.filter(name__icontains=name)
    if metadata:
        queryset = queryset.filter(metadata__contains=metadata)
    return queryset.order_by("-created_at")


def assistant_version_list(*, assistant_id: uuid.UUID | str) -> QuerySet[AssistantVersion]:
    assistant = assistant_get(assistant_id=assistant_id)
    return AssistantVersion.objects.filter(assistant=assistant).order_by("-version")
