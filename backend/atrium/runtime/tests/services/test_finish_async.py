"""The worker loop's claim and finish (`lifecycle.claim`, `lifecycle.finish`): the same function calls
as the sync ones, on the runtime pool; the thread's next run is enqueued once the end is committed, and
a broker that fails then does not fail the finish (the reconciler sends the run later)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from atrium.core.tenancy import scoped
from atrium.runtime.models import Run
from atrium.runtime.persistence import persistence
from atrium.runtime.services import lifecycle
from atrium.runtime.services.lifecycle import FinishOutcome, RunResult
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.agent_api import agent_loop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]


async def claim_and_finish(run_id: str) -> tuple[Any, str]:
    pool = (await persistence()).pool
    async with pool.connection() as conn:
        claim = await lifecycle.claim(conn, run_id=run_id, worker_id="w1")
    assert claim is not None
    status = await lifecycle.finish(claim, RunResult(status=FinishOutcome.SUCCESS, result={}))
    return claim, status


@pytest.mark.parametrize("broker_fails", [False, True])
def test_the_finish_enqueues_the_threads_next_run_and_survives_a_broker_failure(
    agent_loop: Any, editor: Any, monkeypatch: Any, broker_fails: bool
) -> None:
    sent: list[str] = []

    def enqueue(run_id: str, delay: float = 0) -> None:
        sent.append(run_id)
        if broker_fails:
            raise ConnectionError("broker away")

    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", enqueue)
    with scoped(editor.scope()):
        thread, _ = thread_create()
        first = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
        second = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    sent.clear()
    claim, status = asyncio.run_coroutine_threadsafe(claim_and_finish(str(first.id)), agent_loop).result(30)
    assert (claim.thread_id, status) == (str(thread.id), "success")
    assert Run.unscoped.get(id=first.id).status == "success"
    assert sent == [str(second.id)]  # once the end is committed, whether or not the broker took it
