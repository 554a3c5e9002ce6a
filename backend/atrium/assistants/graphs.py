"""The platform's graphs: one registry per process, read from `ATRIUM_GRAPHS` (a langgraph.json)."""

from __future__ import annotations

import dataclasses
import typing
import uuid
from functools import lru_cache
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from pydantic import TypeAdapter, ValidationError

from atrium.runtime.engine import GraphLoadError, GraphRegistry, default_assistant_id
from atrium.runtime.engine.project import ProjectTTLs, StoreIndex


@lru_cache(maxsize=1)
def registry() -> GraphRegistry:
    return GraphRegistry.from_file(settings.ATRIUM_GRAPHS, deps_root=settings.ATRIUM_PROJECT_DEPS_DIR)


def project_ttls() -> ProjectTTLs:
    """The project's `store.ttl` and `checkpointer.ttl`; none when its langgraph.json does not load
    (that is reported where the graphs are used)."""
    try:
        return registry().ttls
    except GraphLoadError:
        return ProjectTTLs()


def project_store_index() -> StoreIndex | None:
    """The project's `store.index` (semantic search), or None."""
    try:
        return registry().store_index
    except GraphLoadError:
        return None


def available_graph_ids() -> frozenset[str]:
    return frozenset(registry().graph_ids())


def default_assistant_id_for(org_id: uuid.UUID, graph_id: str) -> uuid.UUID:
    """Each org gets its own default ("system") assistant per graph, so ids cannot collide across orgs;
    derived like the reference's `uuid5(namespace, graph_id)`, with the org mixed in."""
    return uuid.uuid5(default_assistant_id(graph_id), str(org_id))


@lru_cache(maxsize=64)
def context_schema(graph_id: str) -> Any:
    """The graph's `context_schema` (a dataclass, pydantic model or TypedDict), or None.

    Loading the graph may call its factory; it is done once per graph and process.
    """
    graph = async_to_sync(registry().get_graph)(
        graph_id, None, checkpointer=None, store=None, access_context="assistants.read"
    )
    return getattr(graph, "context_schema", None)


def context_field_names(schema: Any) -> set[str]:
    if dataclasses.is_dataclass(schema):
        return {f.name for f in dataclasses.fields(schema)}
    if hasattr(schema, "model_fields"):
        return set(schema.model_fields)
    return set(typing.get_type_hints(schema))


def context_errors(graph_id: str, context: dict[str, Any]) -> str | None:
    """Why `context` is not valid for the graph's context schema (naming the field), or None."""
    schema = context_schema(graph_id)
    if schema is None:
        return None
    unknown = sorted(set(context) - context_field_names(schema))
    if unknown:
        return f"context.{unknown[0]}: not a setting of graph {graph_id!r}"
    try:
        TypeAdapter(schema).validate_python(context)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"context.{where}: {first.get('msg')}" if where else f"context: {first.get('msg')}"
    except (TypeError, ValueError) as exc:
        return f"context: {exc}"
    return None


# How a graph marks a context field as one each run may set (the assistant's value is the default):
# `dataclasses.field(metadata={"overridable": True})`, pydantic's
# `Field(json_schema_extra={"overridable": True})`, or `Annotated[T, {"overridable": True}]` in a TypedDict.
OVERRIDABLE = "overridable"


def _marked(extra: Any) -> bool:
    return isinstance(extra, dict) and extra.get(OVERRIDABLE) is True


def overridable_fields_of(schema: Any) -> frozenset[str]:
    """The fields of a context schema that its graph marks overridable per run; none without a schema."""
    if schema is None:
        return frozenset()
    if dataclasses.is_dataclass(schema):
        return frozenset(f.name for f in dataclasses.fields(schema) if f.metadata.get(OVERRIDABLE) is True)
    if hasattr(schema, "model_fields"):
        return frozenset(name for name, f in schema.model_fields.items() if _marked(f.json_schema_extra))
    hints = typing.get_type_hints(schema, include_extras=True)
    return frozenset(
        name
        for name, hint in hints.items()
        if typing.get_origin(hint) is typing.Annotated and any(_marked(m) for m in hint.__metadata__)
    )


def overridable_fields(graph_id: str) -> frozenset[str]:
    return overridable_fields_of(context_schema(graph_id))
