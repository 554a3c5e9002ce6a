"""Cancelling a running run with `rollback` when its worker erases the run before the cancel returns
(the worker hears the control message the moment the cancel commits)."""

from __future__ import annotations

import pytest

from atrium.core.tenancy import scoped
from atrium.runtime.models import Run
from atrium.runtime.services import lifecycle
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.agent_api import agent_loop
from atrium.runtime.tests.lifecycle_calls import claim


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)


@pytest.mark.django_db(transaction=True)  # the cancel's message goes out on commit
@pytest.mark.usefixtures(agent_loop.__name__)
def test_a_rollback_its_worker_carries_out_at_once_answers_that_the_run_is_gone(
    agent_loop, editor, monkeypatch
):
    # given a running run whose worker erases it as soon as it is told to roll back
    with scoped(editor.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    assert claim(agent_loop, run.id) is not None
    told: list[tuple[str, str]] = []

    def worker_rolls_back(run_id: str, action: str) -> None:
        told.append((run_id, action))
        Run.unscoped.filter(id=run_id).delete()

    monkeypatch.setattr("atrium.runtime.dispatch.send_control", worker_rolls_back)

    # when the client asks for the rollback
    with scoped(editor.scope()):
        answer = lifecycle.cancel(thread_id=thread.id, run_id=run.id, action="rollback")

    # then it is told the run is gone (no error), and the worker was told once
    assert answer is None
    assert told == [(str(run.id), "rollback")]
    assert not Run.unscoped.filter(id=run.id).exists()
