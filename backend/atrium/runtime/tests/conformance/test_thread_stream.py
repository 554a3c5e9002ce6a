"""§2.8 `GET /threads/{id}/stream` (Python `threads.join_stream`): every run's events on the thread,
`metadata` `{"status": "run_done"}` after each, Last-Event-ID across runs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import NotFoundError

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import new_thread, slow_input


async def _until_done(stream: Any, runs: int, within: float = 20.0) -> list[Any]:
    """Parts until `runs` run_done markers were seen (the stream itself never ends)."""
    parts = []
    if asyncio.iscoroutine(stream):  # `threads.join_stream` is a coroutine returning the stream
        stream = await stream
    async with contextlib.aclosing(stream), asyncio.timeout(within):
        async for part in stream:
            if not part.event:
                continue
            parts.append(part)
            if sum(1 for p in parts if p.event == "metadata" and p.data.get("status") == "run_done") >= runs:
                break
    return parts


async def test_replay_every_run_then_tail(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    first = await client.runs.wait(tid, "slow", input=slow_input(n=2, delay=0.01))
    assert first["ticks"] == [0, 1]
    second = await client.runs.create(tid, "slow", input=slow_input(n=4, delay=0.01), stream_mode="custom")
    await client.runs.join(tid, second["run_id"])

    replay = await _until_done(client.threads.join_stream(tid, last_event_id="-1"), runs=2)
    done = [p.data["run_id"] for p in replay if p.data.get("status") == "run_done"]
    runs = await client.runs.list(tid)
    assert done == [r["run_id"] for r in reversed(runs)]
    assert [p.data["tick"] for p in replay if p.event == "custom"] == [2, 3]
    assert all(p.id for p in replay)

    # After the first run's run_done only the second run comes again; after the first run's last
    # event, its run_done comes first.
    first_done = next(i for i, p in enumerate(replay) if p.data.get("status") == "run_done")
    resumed = await _until_done(client.threads.join_stream(tid, last_event_id=replay[first_done].id), runs=1)
    assert [p.id for p in resumed] == [p.id for p in replay[first_done + 1 :]]
    almost = await _until_done(
        client.threads.join_stream(tid, last_event_id=replay[first_done - 1].id), runs=2
    )
    assert [p.id for p in almost] == [p.id for p in replay[first_done:]]

    # Tail: a run started after the stream opened arrives with its own run_done.
    tail = asyncio.ensure_future(
        _until_done(client.threads.join_stream(tid, stream_mode="lifecycle"), runs=1)
    )
    await asyncio.sleep(0.5)
    third = await client.runs.create(tid, "slow", input=slow_input(n=5, delay=0.01))
    parts = await tail
    assert [p.event for p in parts] == ["metadata", "metadata"]
    assert parts[0].data["run_id"] == third["run_id"]
    assert parts[1].data == {"status": "run_done", "run_id": third["run_id"]}


async def test_unknown_thread_is_404(stack: LiveStack, http: httpx.AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await _until_done(stack.client().threads.join_stream(str(uuid.uuid4())), runs=1)
    response = await http.get(f"/threads/{uuid.uuid4()}/stream", params={"stream_modes": "bogus"})
    assert response.status_code == 404
