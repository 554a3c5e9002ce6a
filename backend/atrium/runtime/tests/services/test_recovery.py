"""The lease sweeper (`lifecycle.sweep`) on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from atrium.core.tenancy import scoped
from atrium.runtime.models import Run, RunStatus, Thread, WebhookDelivery
from atrium.runtime.services import lifecycle
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.agent_api import agent_loop
from atrium.runtime.tests.lifecycle_calls import claim


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)


def _lapsed_run(loop, member, **create) -> Run:
    with scoped(member.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo", **create))
    assert claim(loop, run.id, "gone@nowhere") is not None
    Run.unscoped.filter(id=run.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    return run


@pytest.mark.django_db(transaction=True)  # the worker's claim sees committed rows only
@pytest.mark.usefixtures(agent_loop.__name__)
def test_a_run_renewed_as_the_sweep_reaches_it_does_not_stop_the_sweep_of_the_others(
    agent_loop, editor, monkeypatch
):
    # given two runs whose leases lapsed, the first renewed by its worker just as the sweep reaches it
    first, second = _lapsed_run(agent_loop, editor), _lapsed_run(agent_loop, editor)
    sweep_one = lifecycle._sweep_one
    seen: list[str] = []

    def renewed_first(*, run_id: str, thread_id: str, max_attempts: int) -> str:
        seen.append(run_id)
        if len(seen) == 1:
            Run.unscoped.filter(id=run_id).update(lease_expires_at=timezone.now() + timedelta(seconds=60))
        return sweep_one(run_id=run_id, thread_id=thread_id, max_attempts=max_attempts)

    monkeypatch.setattr(lifecycle, "_sweep_one", renewed_first)

    # when the sweeper runs
    counts = lifecycle.sweep()

    # then the renewed one is left running and the other is re-queued
    assert counts == {"requeued": 1, "failed": 0}
    assert sorted(seen) == sorted([str(first.id), str(second.id)])
    statuses = {str(run.id): Run.unscoped.get(id=run.id).status for run in (first, second)}
    assert sorted(statuses.values()) == [RunStatus.PENDING, RunStatus.RUNNING]
    assert statuses[seen[0]] == RunStatus.RUNNING


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_a_run_past_the_attempt_bound_ends_error_with_its_webhook_and_settles_its_thread(
    agent_loop, editor, monkeypatch
):
    monkeypatch.setattr("atrium.runtime.services.webhooks._send_task", lambda delivery_id, countdown=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.mark_done", lambda *args, **kwargs: None)
    # given a run whose lease lapsed on its last allowed attempt
    run = _lapsed_run(agent_loop, editor, webhook="https://hooks.example.com/atrium")
    fence = Run.unscoped.get(id=run.id).fence

    # when the sweeper runs with a bound of one attempt
    assert lifecycle.sweep(max_attempts=1) == {"requeued": 0, "failed": 1}

    # then the run ended `error` (WorkerLost) under a new fence, its webhook delivery committed with
    # it, and the thread is settled `error`
    ended = Run.unscoped.get(id=run.id)
    assert (ended.status, ended.error["error"], ended.fence) == ("error", "WorkerLost", fence + 1)
    assert ended.ended_at is not None
    [delivery] = WebhookDelivery.unscoped.filter(run_id=run.id)
    assert delivery.run_status == "error"
    assert Thread.unscoped.get(id=run.thread_id).status == "error"
