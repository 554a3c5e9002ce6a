"""Small helpers shared by the conformance tests (Python SDK rows)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from langgraph_sdk.client import LangGraphClient

CHAT_INPUT: dict[str, Any] = {"messages": [{"type": "human", "content": "hi"}]}
REPLY = "hello there friend"
TERMINAL = ("success", "error", "interrupted", "timeout")


def slow_input(n: int = 15, delay: float = 0.2) -> dict[str, Any]:
    return {"n": n, "delay": delay}


async def collect(stream: AsyncIterator[Any], *, limit: int | None = None, within: float = 30.0) -> list[Any]:
    """Every part of an SDK stream (or the first `limit`), skipping the SDK's empty heartbeat parts.
    A stream that does not end within `within` seconds fails the test instead of hanging it."""
    parts = []
    async with asyncio.timeout(within):
        async for part in stream:
            if not part.event:
                continue
            parts.append(part)
            if limit is not None and len(parts) >= limit:
                break
    return parts


def names(parts: Iterable[Any]) -> list[str]:
    return [part.event for part in parts]


async def new_thread(client: LangGraphClient, **metadata: Any) -> str:
    thread = await client.threads.create(metadata={"suite": "conformance", **metadata})
    return str(thread["thread_id"])


async def wait_for_status(
    client: LangGraphClient,
    thread_id: str,
    run_id: str,
    statuses: Iterable[str] = TERMINAL,
    *,
    within: float = 20.0,
) -> dict[str, Any]:
    """Poll a run until its status is one of `statuses`; returns the run."""
    wanted = set(statuses)
    deadline = time.monotonic() + within
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = dict(await client.runs.get(thread_id, run_id))
        if run["status"] in wanted:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} still {run.get('status')!r} after {within}s, wanted {sorted(wanted)}")


async def wait_for_thread(
    client: LangGraphClient, thread_id: str, statuses: Iterable[str], *, within: float = 20.0
) -> dict[str, Any]:
    wanted = set(statuses)
    deadline = time.monotonic() + within
    thread: dict[str, Any] = {}
    while time.monotonic() < deadline:
        thread = dict(await client.threads.get(thread_id))
        if thread["status"] in wanted:
            return thread
        await asyncio.sleep(0.05)
    raise AssertionError(f"thread {thread_id} still {thread.get('status')!r}, wanted {sorted(wanted)}")


async def wait_until_running(client: LangGraphClient, thread_id: str, run_id: str) -> dict[str, Any]:
    return await wait_for_status(client, thread_id, run_id, ["running", *TERMINAL])


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def last_message(values: dict[str, Any]) -> dict[str, Any]:
    return dict(values["messages"][-1])
