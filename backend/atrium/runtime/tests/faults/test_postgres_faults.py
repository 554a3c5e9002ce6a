"""Runs survive a Postgres restart under them: every process's connections are cut, and for a couple of
seconds none can be made. Pools reconnect, runs that were mid-step are handed back and resume from
their checkpoint, and nothing accepted is lost."""

from __future__ import annotations

from typing import Any

from django.db import connections

from atrium.runtime.tests.faults.conftest import FaultStack, wait_until
from atrium.runtime.tests.faults.test_worker_faults import NODES, _check_thread, _wait_terminal


def test_runs_in_flight_when_postgres_restarts_complete(faults: FaultStack, django_db_blocker: Any) -> None:
    # given slow runs executing on the workers
    client = faults.live.sync_client("editor")
    config = {"configurable": {"step_seconds": 1.0}}
    created: list[tuple[str, str]] = []
    for _ in range(6):
        thread_id = str(client.threads.create()["thread_id"])
        run = client.runs.create(thread_id, "steps", input={"trace": []}, config=config)
        created.append((thread_id, str(run["run_id"])))
    assert wait_until(
        lambda: (
            faults.sql(
                "SELECT count(*) FROM runtime_run WHERE id = ANY(%s::uuid[]) AND status = 'running'",
                ([run for _, run in created],),
            )[0][0]
            == len(created)
        ),
        30,
    ), faults.live.logs()

    # when Postgres restarts (every connection cut, down for two seconds)
    faults.restart_postgres(down_seconds=2.0)
    with django_db_blocker.unblock():
        connections.close_all()  # this test process's own connection died with the server

    # then the web answers again, new runs are accepted, and every run completes as if nothing happened
    after = client.threads.create()
    late = client.runs.create(str(after["thread_id"]), "steps", input={"trace": []})
    created.append((str(after["thread_id"]), str(late["run_id"])))
    run_ids = [run for _, run in created]
    statuses = _wait_terminal(faults, run_ids, 120)
    errors = faults.sql("SELECT error FROM runtime_run WHERE id = ANY(%s::uuid[])", (run_ids,))
    assert statuses == dict.fromkeys(run_ids, "success"), f"{errors}\n{faults.live.logs()}"
    for thread_id, _ in created:
        trace, _ = _check_thread(faults, thread_id)  # no completed step ran twice
        assert trace == NODES
    assert client.threads.get_state(created[0][0])["values"]["trace"] == NODES
