"""Writes on assistants. Every change creates a new version; the assistant row mirrors the latest."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from atrium.assistants.graphs import available_graph_ids
from atrium.assistants.models import Assistant, AssistantVersion
from atrium.assistants.selectors import assistant_get
from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.tenancy import Role, current_scope

_VERSIONED_FIELDS = ("graph_id", "name", "description", "config", "context", "metadata")


def _check_graph(graph_id: str) -> None:
    if graph_id not in available_graph_ids():
        known = ", ".join(sorted(available_graph_ids())) or "none"
        raise ValidationFailedError(
            f"Unknown graph {graph_id!r}; registered graphs: {known}.", code="unknown_graph"
        )


def _check_object(field: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationFailedError(f"{field} must be a JSON object.", code="invalid_field")


def _snapshot(assistant: Assistant) -> AssistantVersion:
    return AssistantVersion.objects.create(
        org_id=assistant.org_id,
        assistant=assistant,
        version=assistant.version,
        **{field: getattr(assistant, field) for field in _VERSIONED_FIELDS},
    )


def assistant_create(
    *,
    graph_id: str,
    name: str = "Untitled",
    description: str | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    assistant_id: uuid.UUID | None = None,
    if_exists: str = "raise",
) -> Assistant:
    scope = current_scope()
    scope.require(Role.EDITOR)
    _check_graph(graph_id)
    values = {"config": config or {}, "context": context or {}, "metadata": metadata or {}}
    for field, value in values.items():
        _check_object(field, value)
    if assistant_id is not None and if_exists == "do_nothing":
        existing = Assistant.objects.filter(id=assistant_id).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            assistant = Assistant.objects.create(
                id=assistant_id or uuid.uuid4(),
                org_id=scope.org,
                graph_id=graph_id,
                name=name,
                description=description,
                created_by_id=scope.user_id,
                version=1,
                **values,
            )
            _snapshot(assistant)
    except IntegrityError as exc:
        # The id may belong to another org: say "exists" without saying whose.
        raise ConflictError("An assistant with this id already exists.", code="assistant_exists") from exc
    return assistant


def assistant_update(
    *,
    assistant_id: uuid.UUID | str,
    graph_id: str | None = None,
    name: str | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Assistant:
    """Apply a partial update as a new version. `metadata` is shallow-merged, the others replace."""
    scope = current_scope()
    scope.require(Role.EDITOR)
    if graph_id is not None:
        _check_graph(graph_id)
    for field, value in (("config", config), ("context", context), ("metadata", metadata)):
        if value is not None:
            _check_object(field, value)
    with transaction.atomic():
        assistant = _assistant_for_update(assistant_id)
        if graph_id is not None:
            assistant.graph_id = graph_id
        if name is not None:
            assistant.name = name
        if description is not None:
            assistant.description = description
        if config is not None:
            assistant.config = config
        if context is not None:
            assistant.context = context
        if metadata is not None:
            assistant.metadata = {**assistant.metadata, **metadata}
        latest = AssistantVersion.objects.filter(assistant=assistant).aggregate(v=Max("version"))["v"] or 0
        assistant.version = latest + 1
        assistant.save()
        _snapshot(assistant)
    return assistant


def assistant_set_latest(*, assistant_id: uuid.UUID | str, version: int) -> Assistant:
    scope = current_scope()
    scope.require(Role.EDITOR)
    with transaction.atomic():
        assistant = _assistant_for_update(assistant_id)
        snapshot = AssistantVersion.objects.filter(assistant=assistant, version=version).first()
        if snapshot is None:
            raise NotFoundError(f"Assistant version {version} not found.")
        for field in _VERSIONED_FIELDS:
            setattr(assistant, field, getattr(snapshot, field))
        assistant.version = snapshot.version
        assistant.save()
    return assistant


def assistant_delete(*, assistant_id: uuid.UUID | str) -> None:
    scope = current_scope()
    scope.require(Role.EDITOR)
    assistant = assistant_get(assistant_id=assistant_id)
    assistant.delete()


def _assistant_for_update(assistant_id: uuid.UUID | str) -> Assistant:
    assistant_get(assistant_id=assistant_id)  # the same 404 for malformed, missing and other-org ids
    return Assistant.objects.select_for_update().get(id=assistant_id)
