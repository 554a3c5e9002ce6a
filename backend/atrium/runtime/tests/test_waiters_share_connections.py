"""Waiting clients share the web process's Redis connections: forty clients waiting on one run at once
(`runs.join` and `runs.join_stream`) hold one blocking Redis read between them, not one each, and
every one still gets the run's end."""

from __future__ import annotations

import asyncio
from typing import Any

import redis
from django.conf import settings

from atrium.runtime.tests.live_stack import REDIS_DB, LiveStack, _redis_url

JOINS = 30
STREAMS = 10


def _blocked_reads() -> int:
    """Connections of the stack's Redis database blocked in an XREAD (CLIENT LIST)."""
    client = redis.Redis.from_url(_redis_url(settings.REDIS_URL, REDIS_DB))
    try:
        return sum(
            1
            for entry in client.client_list()
            if int(entry.get("db", -1)) == REDIS_DB and entry.get("cmd") == "xread" and "b" in entry["flags"]
        )
    finally:
        client.close()


async def _stream_values(client: Any, thread_id: str, run_id: str) -> Any:
    last = None
    async for part in client.runs.join_stream(thread_id, run_id, stream_mode="values"):
        if part.event == "values":
            last = part.data
    return last


async def test_forty_waiting_clients_hold_one_blocking_redis_read(live_stack: LiveStack) -> None:
    # given a run that takes about four seconds
    client = live_stack.client("editor")
    thread_id = str((await client.threads.create())["thread_id"])
    run = await client.runs.create(thread_id, "slow", input={"n": 2, "delay": 2})
    run_id = str(run["run_id"])

    # when forty clients wait on it at once, thirty joining and ten streaming
    waiters = [asyncio.ensure_future(client.runs.join(thread_id, run_id)) for _ in range(JOINS)]
    waiters += [asyncio.ensure_future(_stream_values(client, thread_id, run_id)) for _ in range(STREAMS)]
    await asyncio.sleep(1.5)
    blocked = await asyncio.to_thread(_blocked_reads)
    results = await asyncio.wait_for(asyncio.gather(*waiters), timeout=30)

    # then one blocking read served them all (it was one per client), and each got the run's end
    assert blocked == 1, live_stack.logs()
    assert [result["ticks"] for result in results] == [[0, 1]] * (JOINS + STREAMS)
    assert (await client.runs.get(thread_id, run_id))["status"] == "success"
