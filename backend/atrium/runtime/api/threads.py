"""Threads, their state and history (§1.2, §1.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Router
from pydantic import Field

from atrium.core.errors import NotFoundError, ValidationFailedError
from atrium.core.tenancy import current_scope, scoped
from atrium.runtime import state_access
from atrium.runtime.api.artifacts import download_response
from atrium.runtime.api.common import (
    call,
    json_response,
    no_content,
    paginated,
    path_uuid,
    query_list,
    truthy,
)
from atrium.runtime.api.schemas import (
    HistoryIn,
    StateCheckpointIn,
    StatePatchIn,
    StateUpdateIn,
    ThreadCountIn,
    ThreadCreateIn,
    ThreadPatchIn,
    ThreadPruneIn,
    ThreadSearchIn,
)
from atrium.runtime.api.streaming import THREAD_STREAM_MODES, RunRef, sse_response, thread_sse_events
from atrium.runtime.models import Thread
from atrium.runtime.selectors.runs import run_refs_for_thread
from atrium.runtime.selectors.threads import thread_get, thread_search
from atrium.runtime.selectors.wire import select_fields, thread_out
from atrium.runtime.services import threads as services
from atrium.runtime.services.uploads import (
    StoredUpload,
    Upload,
    thread_file_read,
    thread_files_list,
    thread_files_upload,
)

router = Router(tags=["threads"])


@router.post("/threads")
async def thread_create(request: HttpRequest, payload: ThreadCreateIn) -> HttpResponse:
    if payload.supersteps:
        state_access.state_write_require()  # refused before the thread is created
    metadata = dict(payload.metadata or {})
    if payload.graph_id and "graph_id" not in metadata:
        metadata["graph_id"] = payload.graph_id
    thread, created = await call(services.thread_create)(
        thread_id=payload.thread_id, metadata=metadata, if_exists=payload.if_exists, ttl=payload.ttl
    )
    if created and payload.supersteps:
        for superstep in payload.supersteps:
            for update in superstep.get("updates", []):
                await state_access.state_update(
                    thread, values=update.get("values"), as_node=update.get("as_node")
                )
        thread = await call(thread_get)(thread_id=thread.id)
    return json_response(thread_out(thread))


@router.post("/threads/search")
async def thread_search_view(request: HttpRequest, payload: ThreadSearchIn) -> HttpResponse:
    def run() -> tuple[list[dict[str, object]], int]:
        queryset = thread_search(
            metadata=payload.metadata, values=payload.values, ids=payload.ids, status=payload.status
        )
        order = payload.sort_by or "created_at"
        field = "id" if order == "thread_id" else order
        queryset = queryset.order_by(f"{'' if payload.sort_order == 'asc' else '-'}{field}")
        total = queryset.count()
        items = [
            select_fields(thread_out(t), payload.select)
            for t in queryset[payload.offset : payload.offset + payload.limit]
        ]
        return items, total

    items, total = await call(run)()
    if payload.extract:
        items = [{**item, "extracted": _extract(item, payload.extract)} for item in items]
    return paginated(items, total=total, offset=payload.offset, limit=payload.limit)


def _extract(item: dict[str, object], paths: dict[str, str]) -> dict[str, object]:
    """`{"alias": "values.messages[-1]"}` → the value at that path (or None)."""
    import re

    out: dict[str, object] = {}
    for alias, path in list(paths.items())[:10]:
        value: object = item
        for token in re.findall(r"[^.\[\]]+|\[-?\d+\]", path):
            try:
                if token.startswith("["):
                    value = value[int(token[1:-1])]  # type: ignore[index]
                else:
                    value = value.get(token) if isinstance(value, dict) else None
            except (IndexError, KeyError, TypeError):
                value = None
            if value is None:
                break
        out[alias] = value
    return out


@router.post("/threads/count")
async def thread_count(request: HttpRequest, payload: ThreadCountIn) -> HttpResponse:
    count = await call(
        lambda: thread_search(metadata=payload.metadata, values=payload.values, status=payload.status).count()
    )()
    return json_response(count)


@router.post("/threads/prune")
async def thread_prune(request: HttpRequest, payload: ThreadPruneIn) -> HttpResponse:
    count = await call(services.thread_prune)(thread_ids=payload.thread_ids, strategy=payload.strategy)
    return json_response({"pruned_count": count})


@router.get("/threads/{thread_id}")
async def thread_get_view(request: HttpRequest, thread_id: str) -> HttpResponse:
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    return json_response(thread_out(thread, include_ttl="ttl" in (request.GET.getlist("include") or [])))


@router.patch("/threads/{thread_id}")
async def thread_update(request: HttpRequest, thread_id: str, payload: ThreadPatchIn) -> HttpResponse:
    thread = await call(services.thread_update)(
        thread_id=path_uuid(thread_id), metadata=payload.metadata, ttl=payload.ttl
    )
    if "return=minimal" in request.headers.get("Prefer", ""):
        return no_content()
    return json_response(thread_out(thread))


@router.delete("/threads/{thread_id}")
async def thread_delete(request: HttpRequest, thread_id: str) -> HttpResponse:
    await call(services.thread_delete)(thread_id=path_uuid(thread_id))
    return no_content()


@router.post("/threads/{thread_id}/copy")
async def thread_copy(request: HttpRequest, thread_id: str) -> HttpResponse:
    thread = await call(services.thread_copy)(thread_id=path_uuid(thread_id))
    return json_response(thread_out(thread))


@router.get("/threads/{thread_id}/state")
async def state_get(request: HttpRequest, thread_id: str) -> HttpResponse:
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    state = await state_access.state_get(thread, subgraphs=truthy(request.GET.get("subgraphs")))
    return json_response(state)


# Before /state/{checkpoint_id}: Django resolves the first matching pattern, which would answer 405.
@router.post("/threads/{thread_id}/state/checkpoint")
async def state_at_checkpoint(
    request: HttpRequest, thread_id: str, payload: StateCheckpointIn
) -> HttpResponse:
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    return json_response(await _state_at(thread, payload.checkpoint, subgraphs=payload.subgraphs))


@router.get("/threads/{thread_id}/state/{checkpoint_id}")
async def state_at(request: HttpRequest, thread_id: str, checkpoint_id: str) -> HttpResponse:
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    state = await _state_at(
        thread, {"checkpoint_id": checkpoint_id}, subgraphs=truthy(request.GET.get("subgraphs"))
    )
    return json_response(state)


async def _state_at(thread: Thread, checkpoint: dict[str, Any], *, subgraphs: bool) -> dict[str, Any]:
    """The state at a checkpoint; 404 for an id the thread never had (the checkpointer answers an
    unknown id with an empty snapshot echoing the id, which would look like a real, empty state)."""
    state = await state_access.state_get(thread, checkpoint=checkpoint, subgraphs=subgraphs)
    if checkpoint.get("checkpoint_id") and (
        state.get("checkpoint") is None or state.get("created_at") is None
    ):
        raise NotFoundError(f"Checkpoint {checkpoint['checkpoint_id']} not found")
    return state


@router.post("/threads/{thread_id}/state")
async def state_update(request: HttpRequest, thread_id: str, payload: StateUpdateIn) -> HttpResponse:
    state_access.state_write_require()  # before any read: the same 403 whatever the thread
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    checkpoint = payload.checkpoint or (
        {"checkpoint_id": payload.checkpoint_id} if payload.checkpoint_id else None
    )
    result = await state_access.state_update(
        thread, values=payload.values, as_node=payload.as_node, checkpoint=checkpoint
    )
    return json_response(result)


@router.patch("/threads/{thread_id}/state")
async def state_patch(request: HttpRequest, thread_id: str, payload: StatePatchIn) -> HttpResponse:
    """JS `patchState`: merge metadata into the head checkpoint's metadata. 204: the JS client reads no
    body from a 204 (the reference does not route this at all)."""
    await call(services.thread_state_patch)(thread_id=path_uuid(thread_id), metadata=payload.metadata)
    return no_content()


@router.post("/threads/{thread_id}/history")
async def history(request: HttpRequest, thread_id: str, payload: HistoryIn) -> HttpResponse:
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    states = await state_access.history(
        thread,
        limit=payload.limit,
        before=payload.before,
        metadata=payload.metadata,
        checkpoint=payload.checkpoint,
    )
    return json_response(states)


@router.get("/threads/{thread_id}/history")
async def history_get(
    request: HttpRequest,
    thread_id: str,
    limit: Annotated[int, Field(ge=1, le=1000)] = 1,
    before: str | None = None,
) -> HttpResponse:
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    return json_response(await state_access.history(thread, limit=limit, before=before))


def _upload_out(upload: StoredUpload) -> dict[str, object]:
    return {"path": upload.path, "name": upload.name, "size": upload.size, "encoding": upload.encoding}


@router.post("/threads/{thread_id}/files")
async def thread_files_post(request: HttpRequest, thread_id: str) -> HttpResponse:
    """Attach files to the caller's own thread (multipart, one or more `file` fields): 201 with what was
    stored; the agent reads them under `/uploads/` (services/uploads.py)."""
    uploads = [Upload(name=f.name or "", content=f.read()) for f in request.FILES.getlist("file")]
    stored = await thread_files_upload(thread_id=thread_id, uploads=uploads)
    return json_response([_upload_out(upload) for upload in stored], status=201)


@router.get("/threads/{thread_id}/files")
async def thread_files_get(request: HttpRequest, thread_id: str) -> HttpResponse:
    return json_response([_upload_out(upload) for upload in await thread_files_list(thread_id=thread_id)])


@router.get("/threads/{thread_id}/files/{name}")
async def thread_file_get(request: HttpRequest, thread_id: str, name: str) -> HttpResponse:
    return download_response(name, await thread_file_read(thread_id=thread_id, name=name))


@router.get("/threads/{thread_id}/stream")
async def thread_stream(request: HttpRequest, thread_id: str) -> StreamingHttpResponse:
    """Every run's events on the thread (§2.8). The reference reads `stream_modes`, the SDKs send
    `stream_mode`: both are accepted; the first mode given wins."""
    thread = await call(thread_get)(thread_id=path_uuid(thread_id))
    given = query_list(request, "stream_modes") or query_list(request, "stream_mode") or []
    modes = [m for m in given if m]
    mode = modes[0] if modes else "run_modes"
    if mode not in THREAD_STREAM_MODES:
        raise ValidationFailedError(f"stream_mode must be one of {list(THREAD_STREAM_MODES)}")
    scope = current_scope()  # the body is produced after the request's scope is cleared

    async def list_runs(created_after: datetime | None, active_only: bool) -> list[RunRef]:
        with scoped(scope):
            return await call(run_refs_for_thread)(
                thread_id=thread.id, created_after=created_after, active_only=active_only
            )

    last_event_id = request.headers.get("Last-Event-ID")
    body = thread_sse_events(last_event_id=last_event_id, mode=mode, list_runs=list_runs)
    return sse_response(body, request=request, headers={})
