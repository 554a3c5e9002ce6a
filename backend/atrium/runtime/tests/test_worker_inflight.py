"""A worker process holds runs, not threads: with two task threads it runs as many graphs at once as
its in-flight limit allows, and never more (the rest wait in the broker for a free slot).

A stack of its own (uvicorn and one Celery worker with `--concurrency 2` and
ATRIUM_WORKER_MAX_INFLIGHT=20) on the test database and its own Redis database.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from atrium.runtime.tests.live_stack import GRAPHS_FILE, XDIST_INDEX, LiveStack, _database_url, running_stack

REDIS_DB = int(os.environ.get("ATRIUM_INFLIGHT_TEST_REDIS_DB", "4")) - XDIST_INDEX
THREADS = 2
MAX_INFLIGHT = 20
RUNS = 28
TERMINAL = ("success", "error", "interrupted", "timeout")


@pytest.fixture(scope="module")
def host_stack(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveStack]:
    with running_stack(
        name="run-host",
        graphs=GRAPHS_FILE,
        redis_db=REDIS_DB,
        env={"ATRIUM_WORKER_MAX_INFLIGHT": str(MAX_INFLIGHT), "ATRIUM_LOG_LEVEL": "WARNING"},
        django_db_blocker=django_db_blocker,
        tmp_path_factory=tmp_path_factory,
        concurrency=THREADS,
    ) as stack:
        yield stack


def _dsn() -> str:
    from django.db import connections

    return _database_url(connections["default"].settings_dict)


def test_two_task_threads_hold_runs_up_to_the_inflight_limit_and_no_more(host_stack: LiveStack) -> None:
    # given 28 runs of a graph that waits 2 x 3 s (as on a model), each on a thread of its own
    client = host_stack.sync_client("editor", timeout=60)
    runs: list[tuple[str, str]] = []
    for _ in range(RUNS):
        thread_id = str(client.threads.create()["thread_id"])
        run = client.runs.create(thread_id, "slow", input={"n": 2, "delay": 3})
        runs.append((thread_id, str(run["run_id"])))
    run_ids = [run_id for _, run_id in runs]

    # when the one worker (two task threads) takes them, counted in one statement at each look
    counts: list[int] = []
    deadline = time.monotonic() + 120
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'running'), "
                "count(*) FILTER (WHERE status NOT IN ('pending', 'running')) "
                "FROM runtime_run WHERE id::text = ANY(%s)",
                (run_ids,),
            ).fetchone()
            assert row is not None
            counts.append(row[0])
            if row[1] == RUNS:
                break
            time.sleep(0.05)

    # then it held as many at once as its limit (ten times its threads), never more, and all completed
    assert max(counts) == MAX_INFLIGHT, (max(counts), host_stack.logs())
    statuses = {run_id: client.runs.get(thread_id, run_id)["status"] for thread_id, run_id in runs}
    assert statuses == dict.fromkeys(run_ids, "success"), host_stack.logs()
    assert client.runs.join(*runs[-1])["ticks"] == [0, 1]
