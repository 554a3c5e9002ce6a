"""The worker's publisher on a real Redis: a batch's v1 and v2 events go in one script call, a retry of
a batch whose reply was lost applies nothing twice, and the end carries the terminal v2 events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

from atrium.runtime.engine import ProtocolEvent, RunEvent
from atrium.runtime.streams import (
    RunPublisher,
    run_done_key,
    run_events_key,
    thread_run_start_key,
    thread_v2_key,
)


def _run(scenario: Any) -> Any:
    async def main() -> Any:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        try:
            return await scenario(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def _lifecycle(event: str) -> ProtocolEvent:
    return ProtocolEvent("lifecycle", (), {"event": event})


def test_a_batch_and_its_retry_append_each_event_once():
    run_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())

    async def scenario(client: aioredis.Redis) -> tuple[list[Any], list[Any], bytes | None]:
        publisher = RunPublisher(run_id, thread_id, client)
        batch = [RunEvent("values", {"n": 1}), _lifecycle("running"), RunEvent("values", {"n": 2})]
        args = publisher._batch_args(batch)
        # the first call applies; the same call again (its reply lost, retried) changes nothing
        await client.eval(*args)
        await client.eval(*args)
        # the next batch is numbered on
        await client.eval(*publisher._batch_args([RunEvent("values", {"n": 3})]))
        v1 = await client.xrange(run_events_key(run_id))
        v2 = await client.xrange(thread_v2_key(thread_id))
        return v1, v2, await client.get(thread_run_start_key(thread_id))

    v1, v2, run_start = _run(scenario)
    assert [(fields[b"e"], fields[b"d"]) for _, fields in v1] == [
        (b"values", b'{"n":1}'),
        (b"values", b'{"n":2}'),
        (b"values", b'{"n":3}'),
    ]
    assert [entry_id for entry_id, _ in v2] == [b"1-0"]  # the thread's seq, once
    assert b'"running"' in v2[0][1][b"d"]
    assert run_start == b"1"  # the run's first v2 event is where a new thread stream starts


def test_the_end_carries_the_terminal_events_and_the_result():
    run_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())

    async def scenario(client: aioredis.Redis) -> tuple[list[Any], list[Any], list[Any]]:
        publisher = RunPublisher(run_id, thread_id, client, _v2_started=True)
        await publisher.finish("success", result={"ok": True}, terminal=[_lifecycle("completed")])
        return (
            await client.xrange(run_events_key(run_id)),
            await client.xrange(thread_v2_key(thread_id)),
            await client.xrange(run_done_key(run_id)),
        )

    v1, v2, done = _run(scenario)
    assert [fields[b"e"] for _, fields in v1] == [b"__end__"]
    assert len(v2) == 1
    assert b'"completed"' in v2[0][1][b"d"]
    assert done[0][1] == {b"s": b"success", b"r": b'{"ok":true}'}
