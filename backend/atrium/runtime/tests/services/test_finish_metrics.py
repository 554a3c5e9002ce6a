"""A finished run's latency reaches /metrics from the statement that ends it (no read-back query)."""

from __future__ import annotations

from typing import Any

import pytest

from atrium.core.tenancy import scoped
from atrium.runtime.services.lifecycle import FinishOutcome, RunResult
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.agent_api import agent_loop
from atrium.runtime.tests.lifecycle_calls import claim, finish


class _Latencies:
    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []

    def observe(self, value: float, label: str) -> None:
        self.seen.append((value, label))


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: Any) -> None:
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)


@pytest.mark.django_db(transaction=True)  # real commits: the observation waits for one
@pytest.mark.usefixtures(agent_loop.__name__)
def test_a_finished_run_is_observed_once_after_commit(agent_loop: Any, editor: Any, monkeypatch: Any) -> None:
    latencies = _Latencies()
    monkeypatch.setattr("atrium.runtime.services.lifecycle.run_latency", latencies)
    with scoped(editor.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    claimed = claim(agent_loop, run.id)
    assert claimed is not None
    assert finish(agent_loop, claimed, RunResult(status=FinishOutcome.SUCCESS, result={})) == "success"
    [(latency, status)] = latencies.seen
    assert status == "success"
    assert 0 <= latency < 60  # seconds from the run's creation to its end
    # a second finish of the same attempt is refused and observes nothing
    again = finish(agent_loop, claimed, RunResult(status=FinishOutcome.SUCCESS, result={}))
    assert again == FinishOutcome.FENCED
    assert len(latencies.seen) == 1
