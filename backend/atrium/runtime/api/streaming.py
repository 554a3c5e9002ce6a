"""HTTP bodies that follow a run: SSE streams (§2) and the chunked JSON of /wait and /join (§2.6)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, StreamingHttpResponse

from atrium.core.metrics import stream_clients
from atrium.core.tenancy import current_scope
from atrium.orgs.access import access_epoch_async
from atrium.orgs.selectors import caller_still_allowed
from atrium.runtime.db import with_live_connection
from atrium.runtime.engine import HEARTBEAT, dumps, format_event
from atrium.runtime.streams import (
    get_redis,
    last_run_event_id,
    read_run_events,
    run_events_exist,
    wait_run_end,
)

logger = logging.getLogger(__name__)
HEARTBEAT_MS = 5000


def _base_mode(event: str) -> str:
    base = event.split("|", 1)[0]
    return "messages" if base.startswith("messages") else base


def _wanted(modes: list[str] | None) -> set[str] | None:
    if not modes:
        return None
    return {"messages" if m.startswith("messages") else m for m in modes} | {"metadata", "error"}


async def sse_events(
    run_id: str, *, after: str, resumable: bool, modes: list[str] | None = None
) -> AsyncIterator[bytes]:
    wanted = _wanted(modes)
    async for item in read_run_events(run_id, after=after, block_ms=HEARTBEAT_MS):
        if item is None:
            yield HEARTBEAT
            continue
        if wanted is not None and _base_mode(item.event) not in wanted:
            continue
        yield format_event(item.event, item.data, event_id=item.id if resumable else None)


RunRef = tuple[str, str, datetime]
ListRuns = Callable[[datetime | None, bool], Awaitable[list[RunRef]]]
THREAD_STREAM_MODES = ("run_modes", "lifecycle", "state_update")
RUN_POLL_SECONDS = 0.5
RUN_DONE_ID = "done"


def _thread_event_wanted(mode: str, event: str) -> bool:
    if mode == "lifecycle":
        return event == "metadata"
    if mode == "state_update":
        return event.split("|", 1)[0] in ("values", "metadata", "error")
    return True


def _parse_thread_event_id(value: str) -> tuple[str, str] | None:
    """Thread-stream ids are `<run id>:<the run's event id>`; anything else is not one of ours."""
    run_id, sep, entry = value.partition(":")
    try:
        uuid.UUID(run_id)
    except ValueError:
        return None
    return (run_id, entry) if sep and entry else None


async def thread_sse_events(
    *, last_event_id: str | None, mode: str, list_runs: ListRuns
) -> AsyncIterator[bytes]:
    """Every run's events on a thread, run after run, each run followed by `metadata`
    `{"status": "run_done", "run_id"}` (§2.8); it never ends by itself.

    Without `Last-Event-ID` it tails: the active runs from their newest event, then every new run.
    `-1` (or `0`, `-`, empty) replays every retained run first; an id this stream sent resumes after it.
    """
    runs = await list_runs(None, False)
    newest = runs[-1][2] if runs else None
    cursors: dict[str, str] = {}
    if last_event_id is None:
        queue = [run for run in runs if run[1] in ("pending", "running")]
        for run_id, _, _ in queue:
            cursors[run_id] = await last_run_event_id(run_id)
    elif (parsed := _parse_thread_event_id(last_event_id.strip())) is not None:
        index = next((i for i, run in enumerate(runs) if run[0] == parsed[0]), len(runs))
        if parsed[1] == RUN_DONE_ID:
            queue = runs[index + 1 :]
        else:
            queue = runs[index:]
            if queue:
                cursors[queue[0][0]] = parsed[1]
    else:
        queue = list(runs)
    idle = 0.0
    while True:
        for run_id, status, created in queue:
            newest = created if newest is None or created > newest else newest
            if status not in ("pending", "running") and not await run_events_exist(run_id):
                continue  # its events expired: nothing to replay
            async for item in read_run_events(run_id, after=cursors.pop(run_id, "0"), block_ms=HEARTBEAT_MS):
                if item is None:
                    yield HEARTBEAT
                elif _thread_event_wanted(mode, item.event):
                    yield format_event(item.event, item.data, event_id=f"{run_id}:{item.id}")
            yield format_event(
                "metadata", {"status": "run_done", "run_id": run_id}, event_id=f"{run_id}:{RUN_DONE_ID}"
            )
            idle = 0.0
        queue = await list_runs(newest, False)
        if not queue:
            await asyncio.sleep(RUN_POLL_SECONDS)
            idle += RUN_POLL_SECONDS
            if idle >= HEARTBEAT_MS / 1000:
                idle = 0.0
                yield HEARTBEAT


async def _counted(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream, held in the `atrium_stream_clients` gauge while open (renewed as chunks pass)."""
    client, member = get_redis(), stream_clients.new_member()
    renew_at = 0.0
    try:
        async for chunk in body:
            now = time.monotonic()
            if now >= renew_at:
                await stream_clients.aenter(member, client)
                renew_at = now + stream_clients.ttl / 3
            yield chunk
    finally:
        await stream_clients.aleave(member, client)


@dataclass(frozen=True)
class StreamCaller:
    """Who a stream is served to, as checked when it opened."""

    org_id: uuid.UUID
    user_id: int
    api_key_id: uuid.UUID | None


def stream_caller(request: HttpRequest) -> StreamCaller | None:
    """The request's caller, from its scope and its principal (the API key it came with, if any)."""
    scope = current_scope()
    if scope.system or scope.org_id is None or scope.user_id is None:
        return None
    key = getattr(getattr(request, "auth", None), "api_key", None)
    return StreamCaller(org_id=scope.org_id, user_id=scope.user_id, api_key_id=key.id if key else None)


REVOKED_EVENT = format_event(
    "error", {"error": "Forbidden", "message": "Access to this organisation was revoked."}
)


async def _still_allowed(caller: StreamCaller) -> bool:
    check = sync_to_async(with_live_connection(caller_still_allowed), thread_sensitive=False)
    return await check(org_id=caller.org_id, user_id=caller.user_id, api_key_id=caller.api_key_id)


async def revocable(body: AsyncIterator[bytes], caller: StreamCaller) -> AsyncIterator[bytes]:
    """The stream, ended (with an `error` event) once its caller loses access: removed from the org,
    deactivated, or their API key revoked. The access epoch (atrium.orgs.access) says when something
    was taken away; only then is the caller checked against the database. Streams send a heartbeat
    every HEARTBEAT_MS, so an idle stream notices within that and the epoch's poll interval."""
    seen = await access_epoch_async()
    try:
        async for chunk in body:
            epoch = await access_epoch_async()
            if epoch != seen:
                seen = epoch
                if not await _still_allowed(caller):
                    yield REVOKED_EVENT
                    return
            yield chunk
    finally:
        if isinstance(body, AsyncGenerator):  # its own clean-up (guard_disconnect) runs now
            await body.aclose()


def sse_response(
    body: AsyncIterator[bytes], *, request: HttpRequest, headers: dict[str, str]
) -> StreamingHttpResponse:
    """An SSE response of `body`, served only while the request's caller keeps access (`revocable`)."""
    caller = stream_caller(request)
    if caller is not None:
        body = revocable(body, caller)
    response = StreamingHttpResponse(_counted(body), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    for key, value in headers.items():
        response[key] = value
    return response


_detached: set[asyncio.Task[Any]] = set()


def detach(coro: Coroutine[Any, Any, Any]) -> None:
    """Run `coro` to its end on the loop, past the request that started it (the loop keeps only a
    weak reference to a task: this set holds it until it is done)."""
    task = asyncio.get_running_loop().create_task(coro)
    _detached.add(task)
    task.add_done_callback(_detached.discard)


async def guard_disconnect(body: AsyncIterator[bytes], on_disconnect: object) -> AsyncIterator[bytes]:
    """Run `on_disconnect` (a coroutine factory) if the client goes away before the stream ends."""
    finished = False
    try:
        async for chunk in body:
            yield chunk
        finished = True
    finally:
        if not finished and callable(on_disconnect):
            detach(on_disconnect())


async def wait_body(
    run_id: str, load_result: object, *, heartbeat_first: bool = False
) -> AsyncIterator[bytes]:
    """Newlines while the run is going (valid leading JSON whitespace), then its result.
    `heartbeat_first`: the caller already waited one heartbeat interval."""
    if heartbeat_first:
        yield b"\n"
    while True:
        end = await wait_run_end(run_id, block_ms=HEARTBEAT_MS)
        if end is not None:
            break
        yield b"\n"
    if end.result is not None:
        yield end.result
        return
    result = await load_result()  # type: ignore[operator]
    yield dumps(result)
