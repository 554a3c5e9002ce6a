"""Assistants through the Agent Server API (§1.1): the same rows as the control plane's assistants."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router
from pydantic import Field

from atrium.assistants import selectors, services
from atrium.assistants.graphs import registry
from atrium.assistants.models import Assistant, AssistantVersion
from atrium.runtime.api.common import call, json_response, no_content, paginated, truthy
from atrium.runtime.api.schemas import Body, Offset
from atrium.runtime.engine import drawable_graph, graph_schemas, subgraph_schemas

router = Router(tags=["assistants"])


class AssistantCreateIn(Body):
    graph_id: str
    assistant_id: uuid.UUID | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str = "Untitled"
    description: str | None = None


class AssistantPatchIn(Body):
    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None


class AssistantSearchIn(Body):
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class AssistantCountIn(Body):
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None


class VersionsIn(Body):
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0


class SetLatestIn(Body):
    version: int


def assistant_out(assistant: Assistant | AssistantVersion, *, assistant_id: Any = None) -> dict[str, Any]:
    data = {
        "assistant_id": str(assistant_id or assistant.pk),
        "graph_id": assistant.graph_id,
        "config": assistant.config,
        "context": assistant.context,
        "metadata": assistant.metadata,
        "name": assistant.name,
        "description": assistant.description,
        "version": assistant.version,
        "created_at": assistant.created_at.isoformat(),
    }
    if isinstance(assistant, Assistant):
        data["updated_at"] = assistant.updated_at.isoformat()
    return data


def _resolve(assistant_id: str) -> Assistant:
    return services.assistant_resolve(assistant_id=assistant_id)


@router.post("/assistants")
async def assistant_create(request: HttpRequest, payload: AssistantCreateIn) -> HttpResponse:
    assistant = await call(services.assistant_create)(
        graph_id=payload.graph_id,
        name=payload.name,
        description=payload.description,
        config=payload.config,
        context=payload.context,
        metadata=payload.metadata,
        assistant_id=payload.assistant_id,
        if_exists=payload.if_exists,
    )
    return json_response(assistant_out(assistant))


@router.post("/assistants/search")
async def assistant_search(request: HttpRequest, payload: AssistantSearchIn) -> HttpResponse:
    def run() -> tuple[list[dict[str, Any]], int]:
        services.assistants_ensure_defaults()
        queryset = selectors.assistant_list(
            graph_id=payload.graph_id, name=payload.name, metadata=payload.metadata
        )
        field = "id" if payload.sort_by == "assistant_id" else (payload.sort_by or "created_at")
        queryset = queryset.order_by(f"{'' if payload.sort_order == 'asc' else '-'}{field}")
        total = queryset.count()
        rows = queryset[payload.offset : payload.offset + payload.limit]
        items = [assistant_out(a) for a in rows]
        if payload.select:
            items = [{k: v for k, v in item.items() if k in payload.select} for item in items]
        return items, total

    items, total = await call(run)()
    return paginated(items, total=total, offset=payload.offset, limit=payload.limit)


@router.post("/assistants/count")
async def assistant_count(request: HttpRequest, payload: AssistantCountIn) -> HttpResponse:
    def run() -> int:
        services.assistants_ensure_defaults()
        return selectors.assistant_list(
            graph_id=payload.graph_id, name=payload.name, metadata=payload.metadata
        ).count()

    return json_response(await call(run)())


@router.get("/assistants/{assistant_id}")
async def assistant_get(request: HttpRequest, assistant_id: str) -> HttpResponse:
    return json_response(assistant_out(await call(_resolve)(assistant_id)))


@router.patch("/assistants/{assistant_id}")
async def assistant_update(
    request: HttpRequest, assistant_id: str, payload: AssistantPatchIn
) -> HttpResponse:
    def run() -> Assistant:
        assistant = _resolve(assistant_id)
        return services.assistant_update(assistant_id=assistant.id, **payload.dict(exclude_unset=True))

    return json_response(assistant_out(await call(run)()))


@router.delete("/assistants/{assistant_id}")
async def assistant_delete(request: HttpRequest, assistant_id: str) -> HttpResponse:
    delete_threads = truthy(request.GET.get("delete_threads"))

    def run() -> None:
        from atrium.runtime.selectors.threads import thread_queryset
        from atrium.runtime.services.threads import thread_delete

        assistant = _resolve(assistant_id)
        if delete_threads:
            for thread_id in (
                thread_queryset()
                .filter(metadata__assistant_id=str(assistant.id))
                .values_list("id", flat=True)
            ):
                thread_delete(thread_id=thread_id)
        services.assistant_delete(assistant_id=assistant.id)

    await call(run)()
    return no_content()


@router.post("/assistants/{assistant_id}/versions")
async def assistant_versions(request: HttpRequest, assistant_id: str, payload: VersionsIn) -> HttpResponse:
    def run() -> list[dict[str, Any]]:
        assistant = _resolve(assistant_id)
        versions = selectors.assistant_version_list(assistant_id=assistant.id)
        if payload.metadata:
            versions = versions.filter(metadata__contains=payload.metadata)
        return [
            assistant_out(v, assistant_id=assistant.id)
            for v in versions[payload.offset : payload.offset + payload.limit]
        ]

    return json_response(await call(run)())


@router.post("/assistants/{assistant_id}/latest")
async def assistant_set_latest(request: HttpRequest, assistant_id: str, payload: SetLatestIn) -> HttpResponse:
    def run() -> Assistant:
        assistant = _resolve(assistant_id)
        return services.assistant_set_latest(assistant_id=assistant.id, version=payload.version)

    return json_response(assistant_out(await call(run)()))


async def graph_of(assistant_id: str) -> Any:
    assistant = await call(_resolve)(assistant_id)
    config = {
        **(assistant.config or {}),
        "configurable": {
            **((assistant.config or {}).get("configurable") or {}),
            "assistant_id": str(assistant.id),
            "graph_id": assistant.graph_id,
        },
    }
    return assistant, await registry().get_graph(
        assistant.graph_id,
        config,  # type: ignore[arg-type]
        checkpointer=None,
        store=None,
        access_context="assistants.read",
    )


def _xray(value: str | None) -> bool | int:
    if value is None or value.lower() in ("false", "0", ""):
        return False
    if value.lower() == "true":
        return True
    try:
        return max(int(value), 1)
    except ValueError:
        from atrium.core.errors import ValidationFailedError

        raise ValidationFailedError("xray must be true, false or a positive integer") from None


@router.get("/assistants/{assistant_id}/graph")
async def assistant_graph(request: HttpRequest, assistant_id: str) -> HttpResponse:
    xray = _xray(request.GET.get("xray"))
    _, graph = await graph_of(assistant_id)
    return json_response(await drawable_graph(graph, xray=xray))


@router.get("/assistants/{assistant_id}/schemas")
async def assistant_schemas(request: HttpRequest, assistant_id: str) -> HttpResponse:
    assistant, graph = await graph_of(assistant_id)
    return json_response({"graph_id": assistant.graph_id, **graph_schemas(graph)})


@router.get("/assistants/{assistant_id}/subgraphs")
async def assistant_subgraphs(request: HttpRequest, assistant_id: str) -> HttpResponse:
    _, graph = await graph_of(assistant_id)
    return json_response(await subgraph_schemas(graph, recurse=truthy(request.GET.get("recurse"))))


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}")
async def assistant_subgraphs_ns(request: HttpRequest, assistant_id: str, namespace: str) -> HttpResponse:
    _, graph = await graph_of(assistant_id)
    return json_response(
        await subgraph_schemas(graph, namespace=namespace, recurse=truthy(request.GET.get("recurse")))
    )
