"""The worker loop's claim and finish (`lifecycle.claim`, `lifecycle.finish`) on the runtime pool: the
thread's next run is enqueued once the end is committed, and a broker that fails then does not fail the
finish (the reconciler sends the run later); a webhook delivery commits with the run's end or not at
all; a hand-back returns the run to pending; an end committed by a try whose connection died is
recognised by the next try."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from atrium.core.tenancy import scoped
from atrium.runtime.models import Run, WebhookDelivery
from atrium.runtime.persistence import persistence
from atrium.runtime.services import lifecycle, webhooks
from atrium.runtime.services.execution import RunClaim
from atrium.runtime.services.lifecycle import FinishOutcome, RunResult
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.agent_api import agent_loop
from atrium.runtime.tests.lifecycle_calls import claim, finish

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


@pytest.fixture
def no_broker(monkeypatch: Any) -> dict[str, list[str]]:
    sent: dict[str, list[str]] = {"runs": [], "deliveries": []}
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    monkeypatch.setattr(
        "atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: sent["runs"].append(run_id)
    )
    monkeypatch.setattr(
        webhooks, "_send_task", lambda delivery_id, countdown=0: sent["deliveries"].append(delivery_id)
    )
    return sent


def claimed_run(loop: Any, member: Any, **create: Any) -> tuple[Run, RunClaim]:
    with scoped(member.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo", **create))
    claimed = claim(loop, run.id)
    assert claimed is not None
    return run, claimed


HOOK = "https://hooks.example.com/atrium"


def test_the_end_of_a_run_with_a_webhook_commits_with_its_delivery(
    agent_loop: Any, editor: Any, no_broker: dict[str, list[str]]
) -> None:
    run, claimed = claimed_run(agent_loop, editor, webhook=HOOK)
    values = {"messages": ["done"]}
    outcome = RunResult(status=FinishOutcome.SUCCESS, result=values, values=values)
    assert finish(agent_loop, claimed, outcome) == FinishOutcome.SUCCESS
    [delivery] = WebhookDelivery.unscoped.filter(run_id=run.id)
    ended = Run.unscoped.get(id=run.id)
    assert (ended.status, delivery.run_status, delivery.url) == ("success", "success", HOOK)
    assert (delivery.org_id, delivery.thread_id, delivery.status) == (editor.org.id, run.thread_id, "pending")
    # the body is the run as it ended (what the API shows), without its webhook
    assert delivery.payload["run_id"] == str(run.id)
    assert delivery.payload["status"] == "success"
    assert delivery.payload["values"] == values
    assert delivery.payload["run_ended_at"] == ended.ended_at.isoformat()  # type: ignore[union-attr]
    assert "webhook" not in delivery.payload["kwargs"]
    assert delivery.payload == webhooks._run_payload(ended, values)  # as the API's paths record it
    assert no_broker["deliveries"] == [str(delivery.id)]  # its task, sent once committed


def test_an_end_whose_delivery_fails_to_record_commits_nothing(
    agent_loop: Any, editor: Any, no_broker: dict[str, list[str]], monkeypatch: Any
) -> None:
    run, claimed = claimed_run(agent_loop, editor, webhook=HOOK)

    def broken(run: Any, values: Any) -> Any:
        raise RuntimeError("the delivery cannot be built")

    monkeypatch.setattr(webhooks, "_delivery_of", broken)
    with pytest.raises(RuntimeError):
        finish(agent_loop, claimed, RunResult(status=FinishOutcome.SUCCESS, result={}, values={}))
    # the run's end and its delivery commit together or not at all: the run is still running (its
    # lease then hands it to another attempt), no delivery row, no task
    ended = Run.unscoped.get(id=run.id)
    assert (ended.status, ended.ended_at, ended.fence) == ("running", None, claimed.fence)
    assert not WebhookDelivery.unscoped.filter(run_id=run.id).exists()
    assert no_broker["deliveries"] == []


def test_a_hand_back_returns_the_run_to_pending_and_sends_it_again(
    agent_loop: Any, editor: Any, no_broker: dict[str, list[str]]
) -> None:
    run, claimed = claimed_run(agent_loop, editor, webhook=HOOK)
    no_broker["runs"].clear()
    assert finish(agent_loop, claimed, RunResult(status=FinishOutcome.DRAINED)) == FinishOutcome.DRAINED
    back = Run.unscoped.get(id=run.id)
    assert (back.status, back.lease_owner, back.fence) == ("pending", "", claimed.fence)
    assert no_broker["runs"] == [str(run.id)]
    assert not WebhookDelivery.unscoped.filter(run_id=run.id).exists()  # not ended: nothing to notify
    # a second hand-back of the same attempt (its run is no longer running) is fenced off
    assert finish(agent_loop, claimed, RunResult(status=FinishOutcome.DRAINED)) == FinishOutcome.FENCED
    assert no_broker["runs"] == [str(run.id)]


@pytest.mark.parametrize("status", [FinishOutcome.SUCCESS, FinishOutcome.DRAINED])
def test_an_end_committed_by_a_try_whose_connection_died_is_reported_as_ours(
    agent_loop: Any, editor: Any, no_broker: dict[str, list[str]], monkeypatch: Any, status: FinishOutcome
) -> None:
    run, claimed = claimed_run(agent_loop, editor, webhook=HOOK)
    once = lifecycle._finish_once
    tries: list[FinishOutcome] = []

    async def commits_then_loses_its_connection(conn: Any, **kwargs: Any) -> Any:
        ended = await once(conn, **kwargs)
        tries.append(ended.status)
        if len(tries) == 1:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return ended

    monkeypatch.setattr(lifecycle, "_finish_once", commits_then_loses_its_connection)
    assert finish(agent_loop, claimed, RunResult(status=status, result={}, values={})) == status
    # the second try found the run ended under this attempt's fence: the end is ours, not "fenced"
    assert tries == [status, FinishOutcome.FENCED]
    assert Run.unscoped.get(id=run.id).status == ("pending" if status == FinishOutcome.DRAINED else "success")
    assert WebhookDelivery.unscoped.filter(run_id=run.id).count() == (status == FinishOutcome.SUCCESS)


def test_a_finish_gives_up_after_its_retry_budget(
    agent_loop: Any, editor: Any, no_broker: dict[str, list[str]], monkeypatch: Any
) -> None:
    run, claimed = claimed_run(agent_loop, editor)
    monkeypatch.setattr(lifecycle, "FINISH_RETRY_SECONDS", 1.0)

    async def unreachable(conn: Any, **kwargs: Any) -> Any:
        raise psycopg.OperationalError("the database system is starting up")

    monkeypatch.setattr(lifecycle, "_finish_once", unreachable)
    with pytest.raises(psycopg.OperationalError):
        finish(agent_loop, claimed, RunResult(status=FinishOutcome.SUCCESS, result={}))
    assert Run.unscoped.get(id=run.id).status == "running"  # left to its lease
