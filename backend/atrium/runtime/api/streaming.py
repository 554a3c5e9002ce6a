"""HTTP bodies that follow a run: SSE streams (§2) and the chunked JSON of /wait and /join (§2.6)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from django.http import StreamingHttpResponse

from atrium.runtime.engine import HEARTBEAT, dumps, format_event
from atrium.runtime.streams import read_run_events, wait_run_end

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


def sse_response(body: AsyncIterator[bytes], *, headers: dict[str, str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    for key, value in headers.items():
        response[key] = value
    return response


async def guard_disconnect(body: AsyncIterator[bytes], on_disconnect: object) -> AsyncIterator[bytes]:
    """Run `on_disconnect` (a coroutine factory) if the client goes away before the stream ends."""
    finished = False
    try:
        async for chunk in body:
            yield chunk
        finished = True
    finally:
        if not finished and callable(on_disconnect):
            asyncio.get_running_loop().create_task(on_disconnect())


async def wait_body(run_id: str, load_result: object) -> AsyncIterator[bytes]:
    """Newlines while the run is going (valid leading JSON whitespace), then its result."""
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
