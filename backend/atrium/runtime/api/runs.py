"""Runs on threads and stateless runs (§1.4, §1.5), their streams, waits, joins and cancels."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase, StreamingHttpResponse
from ninja import Router
from pydantic import Field

from atrium.core.errors import NotFoundError, ValidationFailedError
from atrium.core.tenancy import current_scope, scoped
from atrium.runtime.api.common import call, json_response, no_content, path_uuid, query_list, truthy
from atrium.runtime.api.schemas import CancelAction, CancelManyIn, Offset, RunCreateIn
from atrium.runtime.api.streaming import (
    HEARTBEAT_MS,
    detach,
    guard_disconnect,
    sse_events,
    sse_response,
    wait_body,
)
from atrium.runtime.engine import dumps
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run
from atrium.runtime.selectors.runs import run_get, run_get_any, run_list
from atrium.runtime.selectors.wire import run_out, select_fields
from atrium.runtime.services import lifecycle
from atrium.runtime.streams import last_run_event_id, parse_last_event_id, wait_run_end

router = Router(tags=["runs"])
FORWARDED_HEADER_EXCLUDES = ("x-api-key", "x-tenant-id", "x-service-key", "x-csrftoken", "x-atrium-org")
# Headers a custom auth scheme may carry credentials in: never stored with the run nor given to graphs.
CREDENTIAL_HEADER = re.compile(r"auth|token|secret|key|cookie|session|password|signature")


def _forwarded_headers(request: HttpRequest) -> dict[str, str]:
    """Request headers graphs may read from their config (§3): `x-*` (minus secrets) and user-agent."""
    headers = {}
    for key, value in request.headers.items():
        lower = key.lower()
        forwarded = lower.startswith("x-") and lower not in FORWARDED_HEADER_EXCLUDES
        if (forwarded and not CREDENTIAL_HEADER.search(lower)) or lower == "user-agent":
            headers[lower] = value
    return headers


IDEMPOTENCY_KEY_MAX = 200  # the column's length (Run.idempotency_key)


def _idempotency_key(request: HttpRequest) -> str | None:
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationFailedError(f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters.")
    return key


def _to_create(request: HttpRequest, payload: RunCreateIn) -> lifecycle.RunCreate:
    modes = payload.stream_mode if isinstance(payload.stream_mode, list) else [payload.stream_mode]
    checkpoint = payload.checkpoint or (
        {"checkpoint_id": str(payload.checkpoint_id)} if payload.checkpoint_id else None
    )
    if checkpoint:
        checkpoint = {k: v for k, v in checkpoint.items() if k != "thread_id"}
    durability = payload.durability
    if durability is None and payload.checkpoint_during is not None:
        durability = "async" if payload.checkpoint_during else "exit"
    return lifecycle.RunCreate(
        assistant_id=payload.assistant_id,
        input=payload.input,
        command=payload.command,
        metadata=payload.metadata or {},
        config=payload.config or {},
        context=payload.context or {},
        stream_mode=list(dict.fromkeys(modes or ["values"])),
        stream_subgraphs=payload.stream_subgraphs,
        stream_resumable=payload.stream_resumable,
        on_disconnect=payload.on_disconnect,
        multitask_strategy=payload.multitask_strategy,
        if_not_exists=payload.if_not_exists,
        interrupt_before=payload.interrupt_before,
        interrupt_after=payload.interrupt_after,
        checkpoint=checkpoint,
        webhook=payload.webhook,
        durability=durability,
        after_seconds=payload.after_seconds,
        on_completion=payload.on_completion,
        headers=_forwarded_headers(request),
        idempotency_key=_idempotency_key(request),
    )


def _locations(run: Run, *, stateless: bool, tail: str) -> dict[str, str]:
    if stateless:
        return {"Content-Location": f"/runs/{run.id}", "Location": f"/runs/{run.id}/{tail}"}
    base = f"/threads/{run.thread_id}/runs/{run.id}"
    return {"Content-Location": base, "Location": f"{base}/{tail}"}


async def _create(request: HttpRequest, thread_id: str | None, payload: RunCreateIn) -> Run:
    stateless = thread_id is None
    tid = None if stateless else path_uuid(thread_id or "", "thread")
    return await call(lifecycle.create)(
        thread_id=tid, payload=_to_create(request, payload), stateless=stateless
    )


def _result_loader(run_id: uuid.UUID) -> Any:
    """Reads the run's result when the body is produced: after the view returned and the middleware
    cleared the request's scope, so the loader carries the scope with it."""
    scope = current_scope()

    async def load() -> Any:
        with scoped(scope):
            return await _result_of(run_id)

    return load


async def _result_of(run_id: uuid.UUID) -> Any:
    run = await call(run_get_any)(run_id=run_id)
    if run is None:
        return {"__error__": {"error": "RunNotFound", "message": "The run was deleted (rolled back)."}}
    return run.result


def _cancel_later(thread_id: uuid.UUID, run_id: uuid.UUID) -> Any:
    scope = current_scope()

    async def cancel() -> None:
        with scoped(scope):
            await call(lifecycle.cancel)(thread_id=thread_id, run_id=run_id, action="interrupt")

    return cancel


def _stream(
    request: HttpRequest, run: Run, payload: RunCreateIn, *, stateless: bool
) -> StreamingHttpResponse:
    body = sse_events(str(run.id), after="0", resumable=payload.stream_resumable)
    if payload.on_disconnect == "cancel":
        body = guard_disconnect(body, _cancel_later(run.thread_id, run.id))
    return sse_response(body, request=request, headers=_locations(run, stateless=stateless, tail="stream"))


async def _wait(run: Run, *, stateless: bool, cancel_on_disconnect: bool) -> HttpResponseBase:
    """The `/wait` and `/join` answer. A run that ends before the first heartbeat is due (most do)
    gets a plain JSON response; a longer one a chunked body that keeps the connection alive with a
    newline every heartbeat until its result (valid leading JSON whitespace, as the reference)."""
    headers = _locations(run, stateless=False, tail="join")
    if stateless:
        headers["Content-Location"] = f"/runs/{run.id}"
    try:
        end = await wait_run_end(str(run.id), block_ms=HEARTBEAT_MS)
    except asyncio.CancelledError:  # the client went away
        if cancel_on_disconnect:
            detach(_cancel_later(run.thread_id, run.id)())
        raise
    if end is not None:
        body = end.result if end.result is not None else dumps(await _result_of(run.id))
        return HttpResponse(body, content_type="application/json", headers=headers)
    waiting = wait_body(str(run.id), _result_loader(run.id), heartbeat_first=True)
    if cancel_on_disconnect:
        waiting = guard_disconnect(waiting, _cancel_later(run.thread_id, run.id))
    return StreamingHttpResponse(waiting, content_type="application/json", headers=headers)


@router.post("/threads/{thread_id}/runs")
async def run_create(request: HttpRequest, thread_id: str, payload: RunCreateIn) -> HttpResponseBase:
    run = await _create(request, thread_id, payload)
    return json_response(
        run_out(run), headers={"Content-Location": f"/threads/{run.thread_id}/runs/{run.id}"}
    )


@router.post("/threads/{thread_id}/runs/stream")
async def run_stream(request: HttpRequest, thread_id: str, payload: RunCreateIn) -> HttpResponseBase:
    return _stream(request, await _create(request, thread_id, payload), payload, stateless=False)


@router.post("/threads/{thread_id}/runs/wait")
async def run_wait(request: HttpRequest, thread_id: str, payload: RunCreateIn) -> HttpResponseBase:
    run = await _create(request, thread_id, payload)
    return await _wait(run, stateless=False, cancel_on_disconnect=payload.on_disconnect == "cancel")


@router.get("/threads/{thread_id}/runs")
async def run_list_view(
    request: HttpRequest,
    thread_id: str,
    limit: Annotated[int, Field(ge=1, le=1000)] = 10,
    offset: Offset = 0,
    status: str | None = None,
) -> HttpResponseBase:
    runs = await call(run_list)(
        thread_id=path_uuid(thread_id, "thread"), limit=limit, offset=offset, status=status
    )
    select = query_list(request, "select")
    return json_response([select_fields(run_out(r), select) for r in runs])


@router.get("/threads/{thread_id}/runs/{run_id}")
async def run_get_view(request: HttpRequest, thread_id: str, run_id: str) -> HttpResponseBase:
    run = await call(run_get)(thread_id=path_uuid(thread_id, "thread"), run_id=path_uuid(run_id, "run"))
    return json_response(run_out(run))


@router.delete("/threads/{thread_id}/runs/{run_id}")
async def run_delete(request: HttpRequest, thread_id: str, run_id: str) -> HttpResponseBase:
    await call(lifecycle.delete)(thread_id=path_uuid(thread_id, "thread"), run_id=path_uuid(run_id, "run"))
    return no_content()


@router.post("/threads/{thread_id}/runs/{run_id}/cancel")
async def run_cancel(
    request: HttpRequest, thread_id: str, run_id: str, action: CancelAction = "interrupt"
) -> HttpResponseBase:
    tid, rid = path_uuid(thread_id, "thread"), path_uuid(run_id, "run")
    run = await call(lifecycle.cancel)(thread_id=tid, run_id=rid, action=action)
    if not truthy(request.GET.get("wait")):
        return no_content(202)
    if run is None:
        return json_response(None)
    body = b"".join([chunk async for chunk in wait_body(str(rid), _result_loader(rid))])
    return HttpResponse(body, content_type="application/json")


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def run_join(request: HttpRequest, thread_id: str, run_id: str) -> HttpResponseBase:
    run = await call(run_get)(thread_id=path_uuid(thread_id, "thread"), run_id=path_uuid(run_id, "run"))
    if run.status not in ACTIVE_RUN_STATUSES:
        return json_response(run.result)
    return await _wait(
        run, stateless=False, cancel_on_disconnect=truthy(request.GET.get("cancel_on_disconnect"))
    )


async def _join_stream(request: HttpRequest, run: Run, *, stateless: bool) -> HttpResponseBase:
    after = parse_last_event_id(request.headers.get("Last-Event-ID"))
    if after is None:
        after = await last_run_event_id(str(run.id))
    resumable = bool((run.kwargs or {}).get("stream_resumable"))
    # Python sends `stream_mode=` (empty) when no filter is given: that means every mode, not none.
    modes = [mode for mode in query_list(request, "stream_mode") or [] if mode] or None
    body = sse_events(str(run.id), after=after, resumable=resumable, modes=modes)
    if truthy(request.GET.get("cancel_on_disconnect")):
        body = guard_disconnect(body, _cancel_later(run.thread_id, run.id))
    return sse_response(body, request=request, headers=_locations(run, stateless=stateless, tail="stream"))


@router.get("/threads/{thread_id}/runs/{run_id}/stream")
async def run_join_stream(request: HttpRequest, thread_id: str, run_id: str) -> HttpResponseBase:
    run = await call(run_get)(thread_id=path_uuid(thread_id, "thread"), run_id=path_uuid(run_id, "run"))
    return await _join_stream(request, run, stateless=False)


@router.post("/runs/stream")
async def stateless_stream(request: HttpRequest, payload: RunCreateIn) -> HttpResponseBase:
    return _stream(request, await _create(request, None, payload), payload, stateless=True)


@router.post("/runs/wait")
async def stateless_wait(request: HttpRequest, payload: RunCreateIn) -> HttpResponseBase:
    run = await _create(request, None, payload)
    return await _wait(run, stateless=True, cancel_on_disconnect=payload.on_disconnect == "cancel")


@router.post("/runs")
async def stateless_create(request: HttpRequest, payload: RunCreateIn) -> HttpResponseBase:
    run = await _create(request, None, payload)
    return json_response(run_out(run), headers={"Content-Location": f"/runs/{run.id}"})


@router.post("/runs/batch")
async def stateless_batch(request: HttpRequest, payload: list[RunCreateIn]) -> HttpResponseBase:
    payloads = [_to_create(request, item) for item in payload]
    runs = await call(lifecycle.create_batch)(payloads=payloads)
    return json_response([run_out(run) for run in runs])


@router.post("/runs/cancel")
async def cancel_many(
    request: HttpRequest, payload: CancelManyIn, action: CancelAction = "interrupt"
) -> HttpResponseBase:
    if (payload.thread_id or payload.run_ids) and payload.status:
        raise ValidationFailedError("Send either thread_id and run_ids, or status, not both.")
    if not payload.status and not (payload.thread_id and payload.run_ids):
        raise ValidationFailedError("Send thread_id and run_ids, or status.")
    await call(lifecycle.cancel_many)(
        thread_id=payload.thread_id, run_ids=payload.run_ids, status=payload.status, action=action
    )
    return no_content()


@router.get("/runs/{run_id}")
async def stateless_get(request: HttpRequest, run_id: str) -> HttpResponseBase:
    run = await call(run_get_any)(run_id=path_uuid(run_id, "run"))
    if run is None:
        raise NotFoundError("Run not found.")
    return json_response(run_out(run))


@router.get("/runs/{run_id}/stream")
async def stateless_join_stream(request: HttpRequest, run_id: str) -> HttpResponseBase:
    run = await call(run_get_any)(run_id=path_uuid(run_id, "run"))
    if run is None:
        raise NotFoundError("Run not found.")
    return await _join_stream(request, run, stateless=True)
