"""A warm shutdown of a worker process: a run whose task starts after the shutdown began is left
pending for another worker, and the shutdown hook never imports the executor itself."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from atrium.core.tenancy import scoped
from atrium.runtime import tasks
from atrium.runtime.models import Run, RunStatus
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    sent: list[str] = []
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: sent.append(run_id))
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    return sent


@pytest.fixture
def shutting_down() -> Iterator[None]:
    tasks._drain_on_shutdown(how="Warm")
    yield
    tasks._shutting_down.clear()


@pytest.mark.django_db
def test_a_run_starting_during_a_warm_shutdown_is_handed_to_another_worker(editor, sent, shutting_down):
    with scoped(editor.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    sent.clear()

    tasks.execute_run(str(run.id))

    assert sent == [str(run.id)]
    assert Run.unscoped.get(id=run.id).status == RunStatus.PENDING


def test_the_hook_does_not_import_the_executor(monkeypatch):
    # Importing it from the signal handler races a task thread importing it ("partially initialized").
    monkeypatch.delitem(sys.modules, "atrium.runtime.executor", raising=False)
    try:
        tasks._drain_on_shutdown(how="Warm")
        assert "atrium.runtime.executor" not in sys.modules
    finally:
        tasks._shutting_down.clear()


def test_a_cold_shutdown_leaves_runs_to_the_sweeper():
    tasks._drain_on_shutdown(how="Cold")
    assert not tasks._shutting_down.is_set()
