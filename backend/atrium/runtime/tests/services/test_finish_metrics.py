"""A finished run's latency reaches /metrics from the statement that ends it (no read-back query)."""

from __future__ import annotations

from typing import Any

import pytest

from atrium.core.tenancy import scoped
from atrium.runtime.services.lifecycle import FinishOutcome, RunResult, claim_sync, finish_sync
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create


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
def test_a_finished_run_is_observed_once_after_commit(editor: Any, monkeypatch: Any) -> None:
    latencies = _Latencies()
    monkeypatch.setattr("atrium.runtime.services.lifecycle.run_latency", latencies)
    with scoped(editor.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    claim = claim_sync(run_id=str(run.id), worker_id="w1")
    assert claim is not None
    assert finish_sync(claim=claim, outcome=RunResult(status=FinishOutcome.SUCCESS, result={})) == "success"
    [(latency, status)] = latencies.seen
    assert status == "success"
    assert 0 <= latency < 60  # seconds from the run's creation to its end
    # a second finish of the same attempt is refused and observes nothing
    again = finish_sync(claim=claim, outcome=RunResult(status=FinishOutcome.SUCCESS, result={}))
    assert again == FinishOutcome.FENCED
    assert len(latencies.seen) == 1
