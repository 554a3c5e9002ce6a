"""The per-org concurrent-run cap, enforced where a worker claims a run: over the cap a run stays
pending and is offered again; thread locks and FIFO are untouched; other orgs are unaffected."""

from __future__ import annotations

import asyncio

import pytest

from atrium.core.tenancy import scoped
from atrium.orgs.limits import org_limits_forget
from atrium.orgs.models import OrgSettings
from atrium.runtime.models import Run
from atrium.runtime.services.execution import RunsAtCapacityError
from atrium.runtime.services.lifecycle import FinishOutcome, RunResult
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.agent_api import agent_loop
from atrium.runtime.tests.lifecycle_calls import claim, claim_async, finish, on_loop

# The claims are the worker's, on the runtime pool: they see committed rows only.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]


@pytest.fixture(autouse=True)
def sent(monkeypatch) -> list[tuple[str, float]]:
    org_limits_forget()
    sent: list[tuple[str, float]] = []
    monkeypatch.setattr(
        "atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: sent.append((run_id, delay))
    )
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    yield sent
    org_limits_forget()


def cap(org, value: int) -> None:
    OrgSettings.unscoped.update_or_create(org=org, defaults={"max_concurrent_runs": value})


def new_run(member) -> Run:
    with scoped(member.scope()):
        thread, _ = thread_create()
        return run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))


def status(run: Run) -> str:
    return Run.unscoped.get(id=run.id).status


def test_a_run_over_the_cap_waits_pending_until_a_slot_frees(agent_loop, editor, outsider):
    cap(editor.org, 1)
    first, second = new_run(editor), new_run(editor)
    foreign = new_run(outsider)
    # the first run takes the org's only slot
    claimed = claim(agent_loop, first.id, "w1")
    assert claimed is not None
    # the second is turned away and stays pending; another org's run is not affected
    with pytest.raises(RunsAtCapacityError):
        claim(agent_loop, second.id, "w2")
    assert status(second) == "pending"
    assert claim(agent_loop, foreign.id, "w3") is not None
    # a redelivered message of the running run is not mistaken for a waiting one
    assert claim(agent_loop, first.id, "w4") is None
    # once the first run ends, the second is claimed
    finish(agent_loop, claimed, RunResult(status=FinishOutcome.SUCCESS, result={}, values={}))
    assert claim(agent_loop, second.id, "w2") is not None


@pytest.fixture
def worker_loop_closed_after():
    """The task runs on this process's worker loop; its pool must let go of the test database."""
    from atrium.runtime.executor import worker_loop
    from atrium.runtime.persistence import close_persistence

    yield
    worker_loop().run(close_persistence())


@pytest.mark.usefixtures("worker_loop_closed_after")  # the task claims on the worker loop's own pool
def test_the_task_offers_a_waiting_run_again_after_a_pause(agent_loop, editor, settings, sent):
    from atrium.runtime.tasks import execute_run

    settings.ATRIUM_CAPACITY_RETRY_SECONDS = 1.5
    cap(editor.org, 1)
    first, second = new_run(editor), new_run(editor)
    assert claim(agent_loop, first.id, "w1") is not None
    sent.clear()
    execute_run(str(second.id))
    assert sent == [(str(second.id), 1.5)]
    assert status(second) == "pending"


def test_an_org_without_settings_gets_the_deployment_cap(agent_loop, editor, settings):
    settings.ATRIUM_MAX_CONCURRENT_RUNS = 1
    assert not OrgSettings.unscoped.filter(org=editor.org).exists()
    first, second = new_run(editor), new_run(editor)
    assert claim(agent_loop, first.id, "w1") is not None
    with pytest.raises(RunsAtCapacityError):
        claim(agent_loop, second.id, "w2")
    # and a blank field of its settings row means the deployment's cap too
    OrgSettings.unscoped.create(org=editor.org, max_concurrent_runs=None)
    with pytest.raises(RunsAtCapacityError):
        claim(agent_loop, second.id, "w2")


def test_zero_means_no_cap(agent_loop, editor):
    cap(editor.org, 0)
    runs = [new_run(editor) for _ in range(3)]
    assert all(claim(agent_loop, r.id, "w") is not None for r in runs)


def test_two_workers_claiming_at_once_respect_the_cap(agent_loop, editor):
    # given an org with one slot and two pending runs on different threads
    cap(editor.org, 1)
    runs = [new_run(editor), new_run(editor)]

    async def worker(index: int) -> str:
        try:
            claimed = await claim_async(str(runs[index].id), f"w{index}")
        except RunsAtCapacityError:
            return "at capacity"
        return "claimed" if claimed is not None else "none"

    async def both() -> list[str]:
        return list(await asyncio.gather(worker(0), worker(1)))

    # when two workers claim them at the same moment (each on a connection of its own)
    outcomes = on_loop(agent_loop, both())
    # then exactly one runs
    assert sorted(outcomes) == ["at capacity", "claimed"]
    assert sorted(status(r) for r in runs) == ["pending", "running"]
