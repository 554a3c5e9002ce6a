"""Helpers for tests that drive the Agent Server API through Django's test client.

The API's async operations reach Postgres through `persistence()`, one connection pool per event
loop. Django's sync test client runs each async view on a fresh loop that it closes afterwards, which
would leave one orphaned pool per request. `agent_loop` gives the test one long-lived loop instead:
the client's `async_to_sync` hands every view to it (as it does inside `sync_to_async`), and the pool
is closed when the test ends.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.test import Client

from atrium.runtime.persistence import close_persistence


@pytest.fixture
def agent_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="agent-api-test-loop", daemon=True)
    thread.start()
    local = SyncToAsync.threadlocal
    saved = (getattr(local, "main_event_loop", None), getattr(local, "main_event_loop_pid", None))
    local.main_event_loop, local.main_event_loop_pid = loop, os.getpid()
    try:
        yield loop
    finally:
        local.main_event_loop, local.main_event_loop_pid = saved
        asyncio.run_coroutine_threadsafe(close_persistence(), loop).result(timeout=30)
        asyncio.run_coroutine_threadsafe(loop.shutdown_default_executor(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        gc.collect()  # the executor threads' database connections close when collected


def send(client: Client, method: str, path: str, body: Any = None, **extra: Any) -> Any:
    """One JSON request to /agent; `body` is sent as JSON when given."""
    call = getattr(client, method.lower())
    if body is None:
        return call(f"/agent{path}", **extra)
    return call(f"/agent{path}", data=json.dumps(body), content_type="application/json", **extra)
