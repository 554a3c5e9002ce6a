"""Runs survive what dies under them: real web, beat, workers, Postgres and Redis, with faults injected.

The fixture graph (`graphs/steps.py`) records every node execution with its start time. A node that
completed is one whose write reached a committed checkpoint; it must never start again after that
checkpoint. (A node killed mid-step, before its checkpoint, legitimately runs again: that is the
"exactly once after its last committed checkpoint" of docs/reliability.md.)
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import threading
import time
from datetime import datetime
from typing import Any
from unittest import mock

from celery import Celery

from atrium.runtime.tests.faults.conftest import WORKERS, FaultStack, wait_until

NODES = ["s1", "s2", "s3", "s4", "s5"]
TERMINAL = ("success", "error", "interrupted", "timeout")
ANY_TEXT: Any = mock.ANY


def _create_run(stack: FaultStack) -> tuple[str, str]:
    client = stack.live.sync_client("editor")
    thread = client.threads.create()
    run = client.runs.create(thread["thread_id"], "steps", input={"trace": []})
    return str(thread["thread_id"]), str(run["run_id"])


def _runs(stack: FaultStack, run_ids: list[str]) -> dict[str, tuple[str, int, int, str]]:
    rows = stack.sql(
        "SELECT id::text, status, fence, attempt, lease_owner FROM runtime_run WHERE id = ANY(%s::uuid[])",
        (run_ids,),
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def _wait_terminal(stack: FaultStack, run_ids: list[str], timeout: float) -> dict[str, str]:
    statuses: dict[str, str] = {}

    def done() -> bool:
        statuses.update({run: row[0] for run, row in _runs(stack, run_ids).items()})
        return all(statuses.get(run) in TERMINAL for run in run_ids)

    wait_until(done, timeout, interval=0.25)
    return statuses


def _executions(stack: FaultStack, thread_id: str) -> dict[str, list[tuple[datetime, int]]]:
    rows = stack.sql(
        "SELECT node, started_at, pid FROM fault_node_exec WHERE thread_id = %s ORDER BY id", (thread_id,)
    )
    found: dict[str, list[tuple[datetime, int]]] = {}
    for node, started_at, pid in rows:
        found.setdefault(node, []).append((started_at, pid))
    return found


def _check_thread(stack: FaultStack, thread_id: str) -> tuple[list[str], int]:
    """The final state, and how many node executions were repeats of an uncommitted step. Fails if a
    node started again after the checkpoint that committed it, or never ran."""
    client = stack.live.sync_client("editor")
    history = client.threads.get_history(thread_id, limit=100)
    committed: dict[str, datetime] = {}
    for state in history:
        created = datetime.fromisoformat(str(state["created_at"]).replace("Z", "+00:00"))
        for node in (state["values"] or {}).get("trace", []):
            committed[node] = min(committed.get(node, created), created)
    executions = _executions(stack, thread_id)
    repeats = 0
    for node in NODES:
        starts = executions.get(node, [])
        assert starts, f"{node} never ran on {thread_id}"
        late = [start for start, _ in starts if start > committed[node]]
        assert late == [], f"{node} ran again after its commit on {thread_id}: {starts} > {committed[node]}"
        repeats += len(starts) - 1
    return list(history[0]["values"]["trace"]), repeats


def test_a_run_handed_to_several_workers_at_once_runs_once(faults: FaultStack) -> None:
    # given a run whose message is delivered four times, all due at the same instant
    client = faults.live.sync_client("editor")
    thread_id = str(client.threads.create()["thread_id"])
    run = client.runs.create(thread_id, "steps", input={"trace": []}, after_seconds=2)
    run_id = str(run["run_id"])
    app = Celery(broker=faults.env["REDIS_URL"])
    due = 2.0  # the same instant as the run becomes due
    for _ in range(3):
        app.send_task("atrium.runtime.execute_run", args=(run_id,), queue="runs", countdown=due)

    # when the workers all try to claim it
    statuses = _wait_terminal(faults, [run_id], 30)

    # then exactly one executed it, once
    assert statuses[run_id] == "success", faults.live.logs()
    _, _, attempt, _ = _runs(faults, [run_id])[run_id]
    assert attempt == 1
    executions = _executions(faults, thread_id)
    assert {node: len(starts) for node, starts in executions.items()} == dict.fromkeys(NODES, 1)


def test_sigterm_hands_a_running_run_to_another_worker(faults: FaultStack) -> None:
    # given a run executing on some worker
    thread_id, run_id = _create_run(faults)
    owner: list[str] = []

    def running() -> bool:
        status, _, _, lease_owner = _runs(faults, [run_id])[run_id]
        if (
            status == "running"
            and lease_owner
            and faults.sql("SELECT 1 FROM fault_node_exec WHERE thread_id = %s AND node = 's2'", (thread_id,))
        ):
            owner.append(lease_owner)
            return True
        return False

    assert wait_until(running, 20, interval=0.05), faults.live.logs()
    index = next(i for i in range(WORKERS) if owner[0].startswith(faults.worker_name(i) + "@"))

    # when that worker is told to shut down (a deploy)
    faults.kill_worker(index, signal.SIGTERM)
    statuses = _wait_terminal(faults, [run_id], 40)

    # then the run completes, on another worker, every step exactly once
    assert statuses[run_id] == "success", faults.live.logs()
    assert faults.workers[index].wait(timeout=20) is not None
    faults.start_worker(index)
    executions = _executions(faults, thread_id)
    assert {node: len(starts) for node, starts in executions.items()} == dict.fromkeys(NODES, 1)
    assert len({pid for starts in executions.values() for _, pid in starts}) == 2
    trace, repeats = _check_thread(faults, thread_id)
    assert (trace, repeats) == (NODES, 0)


def test_sigterm_holds_the_worker_until_its_runs_are_handed_back(faults: FaultStack) -> None:
    # given a slow run (1.5 s steps) mid-step on some worker: its task returned long ago, once claimed
    client = faults.live.sync_client("editor")
    thread_id = str(client.threads.create()["thread_id"])
    config = {"configurable": {"step_seconds": 1.5}}
    run_id = str(client.runs.create(thread_id, "steps", input={"trace": []}, config=config)["run_id"])
    assert faults.node_started(thread_id, "s2"), faults.live.logs()
    _, fence, attempt, owner = _runs(faults, [run_id])[run_id]
    index = next(i for i in range(WORKERS) if owner.startswith(faults.worker_name(i) + "@"))

    # when that worker is told to shut down
    faults.kill_worker(index, signal.SIGTERM)
    assert faults.workers[index].wait(timeout=30) is not None
    statuses = _wait_terminal(faults, [run_id], 40)
    faults.start_worker(index)

    # then it exited only after handing the run back (the step boundary came after its task ended):
    # one more claim, no sweep of a lapsed lease (which would have taken a fence of its own)
    assert statuses[run_id] == "success", faults.live.logs()
    _, fence_now, attempt_now, _ = _runs(faults, [run_id])[run_id]
    assert (fence_now, attempt_now) == (fence + 1, attempt + 1), faults.live.logs()
    trace, repeats = _check_thread(faults, thread_id)
    assert (trace, repeats) == (NODES, 0)


def test_a_worker_whose_lease_was_taken_stops_and_the_run_resumes(faults: FaultStack) -> None:
    # given a slow run executing on some worker
    client = faults.live.sync_client("editor")
    thread_id = str(client.threads.create()["thread_id"])
    config = {"configurable": {"step_seconds": 1.0}}
    run_id = str(client.runs.create(thread_id, "steps", input={"trace": []}, config=config)["run_id"])
    assert wait_until(
        lambda: faults.sql(
            "SELECT 1 FROM fault_node_exec WHERE thread_id = %s AND node = 's2'", (thread_id,)
        ),
        20,
        interval=0.05,
    )

    # when its lease is taken from it, as the sweeper does (new fence, back to pending; the reconciler
    # sends it again a few seconds later)
    faults.sql(
        "UPDATE runtime_run SET status = 'pending', fence = fence + 1, lease_owner = '', "
        "lease_expires_at = NULL WHERE id = %s",
        (run_id,),
    )
    statuses = _wait_terminal(faults, [run_id], 40)

    # then the first worker stopped at its next heartbeat, and the run completed from its checkpoint
    assert statuses[run_id] == "success", faults.live.logs()
    assert "was reclaimed by another worker" in faults.live.logs(400)
    trace, _ = _check_thread(faults, thread_id)
    assert trace == NODES


def test_a_run_that_keeps_losing_its_worker_ends_error_and_frees_the_thread(faults: FaultStack) -> None:
    # given a run that has used its last attempt and whose worker is gone (lease lapsed)
    client = faults.live.sync_client("editor")
    thread_id = str(client.threads.create()["thread_id"])
    run_id = str(client.runs.create(thread_id, "steps", input={"trace": []}, after_seconds=600)["run_id"])
    faults.sql(
        "UPDATE runtime_run SET status = 'running', attempt = 3, fence = fence + 3, "
        "lease_owner = 'gone@nowhere', lease_expires_at = now() - interval '1 second' WHERE id = %s",
        (run_id,),
    )

    # when the sweeper finds it, a waiter is woken with the reason
    result = client.runs.join(thread_id, run_id)
    assert result == {"__error__": {"error": "WorkerLost", "message": ANY_TEXT}}
    run = client.runs.get(thread_id, run_id)
    assert run["status"] == "error"
    assert client.threads.get(thread_id)["status"] == "error"

    # then the thread takes a new run
    assert client.runs.wait(thread_id, "steps", input={"trace": []})["trace"] == NODES


def _executing(stack: FaultStack, index: int) -> bool:
    return bool(
        stack.sql(
            "SELECT 1 FROM runtime_run WHERE status = 'running' AND lease_owner LIKE %s LIMIT 1",
            (stack.worker_name(index) + "@%",),
        )
    )


def _holds_a_last_attempt(stack: FaultStack, index: int) -> bool:
    """Whether the worker runs an attempt that, lost too, ends its run as an error by design (the bound
    on attempts has its own test)."""
    from django.conf import settings

    return bool(
        stack.sql(
            "SELECT 1 FROM runtime_run WHERE status = 'running' AND lease_owner LIKE %s AND attempt >= %s "
            "LIMIT 1",
            (stack.worker_name(index) + "@%", settings.ATRIUM_RUN_MAX_ATTEMPTS),
        )
    )


def test_sigkill_at_random_points_loses_and_repeats_nothing(faults: FaultStack) -> None:
    # given many runs created over time, several executing at once on three workers
    total = int(os.environ.get("ATRIUM_FAULTS_RUNS", "60"))
    created: list[tuple[str, str]] = []
    lock = threading.Lock()
    kills: list[dict[str, Any]] = []
    recovery: list[float] = []
    detection: list[float] = []
    detected_runs: set[str] = set()
    stop = threading.Event()
    rng = random.Random(int(os.environ.get("ATRIUM_FAULTS_SEED", "4")))

    def create_all() -> None:
        for _ in range(total):
            pair = _create_run(faults)
            with lock:
                created.append(pair)
            time.sleep(rng.uniform(0.15, 0.45))

    def kill_some() -> None:
        # when a random busy worker is SIGKILLed every few seconds (and started again), as long as
        # another worker is up and executing runs too: the test is about runs surviving their
        # worker, not about a machine too loaded to start workers as fast as they are killed; nor
        # one holding a run on its last attempt (a third loss gives the run up, as designed)
        while not stop.wait(rng.uniform(2.5, 4.5)):
            busy = [
                i for i in range(WORKERS) if _executing(faults, i) and not _holds_a_last_attempt(faults, i)
            ]
            if len(busy) < 2:
                continue
            index = rng.choice(busy)
            victims = faults.sql(
                "SELECT id::text, fence FROM runtime_run WHERE status = 'running' AND lease_owner LIKE %s",
                (faults.worker_name(index) + "@%",),
            )
            faults.kill_worker(index)
            killed_at = time.monotonic()
            faults.workers[index].wait(timeout=10)
            faults.start_worker(index)
            kills.append({"at": killed_at, "victims": dict(victims)})

    def watch_recovery() -> None:
        # the time from a kill to the next claim of each run that was executing on the dead worker
        waiting: dict[str, tuple[float, int]] = {}
        seen = 0
        while not stop.is_set() or waiting:
            for kill in kills[seen:]:
                for run_id, fence in kill["victims"].items():
                    waiting.setdefault(run_id, (kill["at"], fence))
            seen = len(kills)
            if waiting:
                for run_id, (status, fence, _, _) in _runs(faults, list(waiting)).items():
                    killed_at, fence_then = waiting[run_id]
                    if fence >= fence_then + 1 and run_id not in detected_runs:
                        detected_runs.add(run_id)
                        detection.append(time.monotonic() - killed_at)
                    if status in TERMINAL or (status == "running" and fence >= fence_then + 2):
                        recovery.append(time.monotonic() - killed_at)
                        del waiting[run_id]
            if stop.is_set() and time.monotonic() > deadline:
                break
            time.sleep(0.1)

    started = time.monotonic()
    deadline = started + 240
    creator = threading.Thread(target=create_all)
    killer = threading.Thread(target=kill_some)
    watcher = threading.Thread(target=watch_recovery)
    for thread in (creator, killer, watcher):
        thread.start()
    creator.join()
    time.sleep(3)
    stop.set()
    killer.join()
    run_ids = [run for _, run in created]
    statuses = _wait_terminal(faults, run_ids, 120)
    watcher.join(timeout=30)
    elapsed = time.monotonic() - started

    # then every run ended success, with the no-fault final state, no completed step run twice
    repeats = 0
    for thread_id, _ in created:
        trace, repeated = _check_thread(faults, thread_id)
        assert trace == NODES
        repeats += repeated
    failed = {run: status for run, status in statuses.items() if status != "success"}
    figures = {
        "runs": len(run_ids),
        "kills": len(kills),
        "runs_interrupted_by_a_kill": len({run for kill in kills for run in kill["victims"]}),
        "recovery_p50_s": round(statistics.median(recovery), 2) if recovery else None,
        "recovery_p95_s": round(sorted(recovery)[int(0.95 * (len(recovery) - 1))], 2) if recovery else None,
        "recovery_max_s": round(max(recovery), 2) if recovery else None,
        "detection_p50_s": round(statistics.median(detection), 2) if detection else None,
        "detection_max_s": round(max(detection), 2) if detection else None,
        "lost": len(failed),
        "completed_steps_rerun": 0,
        "uncommitted_steps_rerun": repeats,
        "elapsed_s": round(elapsed, 1),
    }
    print("fault figures:", json.dumps(figures))
    if os.environ.get("ATRIUM_FAULTS_REPORT"):
        with open(os.environ["ATRIUM_FAULTS_REPORT"], "w") as out:
            json.dump(figures, out)
    assert failed == {}, faults.live.logs()
    assert len(run_ids) >= 50
    assert kills


def test_runs_queued_when_redis_restarts_are_not_lost(faults: FaultStack) -> None:
    # given runs accepted while no worker is consuming (their messages only in Redis)
    for index in range(WORKERS):
        faults.kill_worker(index, signal.SIGTERM)
    for index in range(WORKERS):
        faults.workers[index].wait(timeout=30)
    created = [_create_run(faults) for _ in range(10)]

    # when Redis restarts empty, then the workers come back
    faults.stop_redis()
    faults.start_redis()
    for index in range(WORKERS):
        faults.start_worker(index)

    # then the reconciler re-enqueues every one of them and they all complete
    run_ids = [run for _, run in created]
    statuses = _wait_terminal(faults, run_ids, 90)
    assert statuses == dict.fromkeys(run_ids, "success"), faults.live.logs()
    for thread_id, _ in created:
        assert _check_thread(faults, thread_id) == (NODES, 0)


def _reclaim_logs(stack: FaultStack) -> int:
    return sum(
        path.read_text(errors="replace").count("was reclaimed by another worker")
        for path in stack.log_dir.glob("worker-*.log")
    )


def _owner_index(stack: FaultStack, run_id: str) -> int:
    owner = _runs(stack, [run_id])[run_id][3]
    return next(i for i in range(WORKERS) if owner.startswith(stack.worker_name(i) + "@"))


def _slow_run_mid_step(stack: FaultStack) -> tuple[Any, str, str, int]:
    """A slow run of `steps` caught in its second step: (client, thread id, run id, owner's index)."""
    client = stack.live.sync_client("editor")
    thread_id = str(client.threads.create()["thread_id"])
    config = {"configurable": {"step_seconds": 1.0}}
    run_id = str(client.runs.create(thread_id, "steps", input={"trace": []}, config=config)["run_id"])
    assert stack.node_started(thread_id, "s2"), stack.live.logs()
    return client, thread_id, run_id, _owner_index(stack, run_id)


def test_a_run_cancelled_while_its_worker_is_dead_ends_cancelled(faults: FaultStack) -> None:
    # given a slow run whose worker is SIGKILLed mid-step
    client, thread_id, run_id, index = _slow_run_mid_step(faults)
    faults.kill_worker(index)
    faults.workers[index].wait(timeout=10)

    # when the run is cancelled before any worker took it over
    client.runs.cancel(thread_id, run_id)
    faults.start_worker(index)
    statuses = _wait_terminal(faults, [run_id], 40)

    # then it ends cancelled (interrupted), no later step ran, and the thread takes a new run
    assert statuses[run_id] == "interrupted", faults.live.logs()
    executed = {node: len(starts) for node, starts in _executions(faults, thread_id).items()}
    assert executed == {"s1": 1, "s2": 1}
    assert client.runs.join(thread_id, run_id)["trace"] == ["s1"]
    assert client.threads.get(thread_id)["status"] == "interrupted"
    assert client.runs.wait(thread_id, "steps", input={"trace": []})["trace"] == ["s1", *NODES]


def test_a_paused_worker_past_its_lease_writes_no_checkpoint(faults: FaultStack) -> None:
    # given a slow run whose worker is paused (SIGSTOP) mid-step, long past its lease
    _, thread_id, run_id, index = _slow_run_mid_step(faults)
    paused_pid = faults.workers[index].pid
    audit = [
        "CREATE TABLE IF NOT EXISTS fault_ckpt_write "
        "(thread_id text, at timestamptz DEFAULT clock_timestamp())",
        "CREATE OR REPLACE FUNCTION fault_ckpt_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO fault_ckpt_write (thread_id) VALUES (NEW.thread_id); RETURN NEW; END $$",
        "CREATE TRIGGER fault_ckpt_audit AFTER INSERT OR UPDATE ON checkpoints "
        "FOR EACH ROW EXECUTE FUNCTION fault_ckpt_audit()",
        "CREATE TRIGGER fault_ckpt_writes_audit AFTER INSERT OR UPDATE ON checkpoint_writes "
        "FOR EACH ROW EXECUTE FUNCTION fault_ckpt_audit()",
    ]
    for statement in audit:
        faults.sql(statement)
    reclaimed_before = _reclaim_logs(faults)
    faults.kill_worker(index, signal.SIGSTOP)
    try:
        # when another worker takes the run over and completes it
        statuses = _wait_terminal(faults, [run_id], 60)
        assert statuses[run_id] == "success", faults.live.logs()
        ended = faults.sql("SELECT clock_timestamp()")[0][0]
    finally:
        faults.kill_worker(index, signal.SIGCONT)
    # and the paused worker wakes up, its step done, and tries to go on
    assert wait_until(lambda: _reclaim_logs(faults) > reclaimed_before, 20), faults.live.logs()
    try:
        late_writes = faults.sql(
            "SELECT count(*) FROM fault_ckpt_write WHERE thread_id = %s AND at > %s", (thread_id, ended)
        )
        late_steps = faults.sql(
            "SELECT node FROM fault_node_exec WHERE thread_id = %s AND pid = %s AND started_at > %s",
            (thread_id, paused_pid, ended),
        )
    finally:
        faults.sql("DROP TRIGGER IF EXISTS fault_ckpt_audit ON checkpoints")
        faults.sql("DROP TRIGGER IF EXISTS fault_ckpt_writes_audit ON checkpoint_writes")
        faults.sql("DROP TABLE IF EXISTS fault_ckpt_write")

    # then it wrote no checkpoint and ran no further step; the run's state is the no-fault one
    assert (late_writes, late_steps) == ([(0,)], [])
    forks = faults.sql(
        "SELECT parent_checkpoint_id FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = '' "
        "GROUP BY 1 HAVING count(*) > 1",
        (thread_id,),
    )
    assert forks == []
    assert _check_thread(faults, thread_id)[0] == NODES
