"""The worker's lifecycle calls (`lifecycle.claim`, `lifecycle.finish`) from a sync test, made as the
worker makes them: on an event loop with the runtime pool (`agent_loop`). The pool's connections do not
see a test's transaction, so the rows must be committed: tests using these are
`django_db(transaction=True)`."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from atrium.runtime.persistence import persistence
from atrium.runtime.services import lifecycle
from atrium.runtime.services.execution import RunClaim
from atrium.runtime.services.lifecycle import FinishOutcome, RunResult

T = TypeVar("T")


def on_loop(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


async def claim_async(run_id: str, worker_id: str) -> RunClaim | None:
    async with (await persistence()).pool.connection() as conn:
        return await lifecycle.claim(conn, run_id=run_id, worker_id=worker_id)


def claim(loop: asyncio.AbstractEventLoop, run_id: Any, worker_id: str = "w1") -> RunClaim | None:
    return on_loop(loop, claim_async(str(run_id), worker_id))


def finish(loop: asyncio.AbstractEventLoop, claim: RunClaim, outcome: RunResult) -> FinishOutcome:
    return on_loop(loop, lifecycle.finish(claim, outcome))
