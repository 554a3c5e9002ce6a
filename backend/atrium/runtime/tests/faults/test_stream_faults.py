"""A client following a run's stream sees every event once, in order, whatever restarts under it: Redis
(the events' home), or the web process it is connected to.

The client is raw HTTP, so the test controls exactly what it sends: it reads the run's SSE stream and,
whenever the connection fails, reconnects with `Last-Event-ID` set to the last id it received (what the
SDKs and browsers do)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from atrium.runtime.tests.faults.conftest import FaultStack, wait_until

NODES = ["s1", "s2", "s3", "s4", "s5"]
# The run's `values` events, in order: its input, then the state after each step.
EXPECTED_TRACES = [NODES[:i] for i in range(len(NODES) + 1)]


@dataclass(frozen=True)
class Event:
    id: str
    event: str
    data: Any


def _read_stream(url: str, headers: dict[str, str], events: list[Event], stop: threading.Event) -> bool:
    """Append the stream's events to `events` until it ends (True) or the connection fails (False)."""
    fields: dict[str, str] = {}
    with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(30, connect=5)) as response:
        if response.status_code != 200:
            return False
        for line in response.iter_lines():
            if stop.is_set():
                return False
            if line.startswith(":"):
                continue  # heartbeat
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "event" in fields:
                events.append(
                    Event(fields.get("id", ""), fields["event"], json.loads(fields.get("data") or "null"))
                )
            fields = {}
    return True


def _follow(
    base_urls: list[str], path: str, headers: dict[str, str], events: list[Event], stop: threading.Event
) -> int:
    """Follow a stream to its end, reconnecting (to the next web process in `base_urls`) with
    `Last-Event-ID` after every failure. Returns how many connections failed."""
    failures = 0
    while not stop.is_set():
        last = events[-1].id if events else "-1"
        url = base_urls[min(failures, len(base_urls) - 1)] + path
        try:
            if _read_stream(url, {**headers, "Last-Event-ID": last}, events, stop):
                return failures
        except httpx.HTTPError:
            pass
        failures += 1
        time.sleep(0.2)
    return failures


def _start_run(stack: FaultStack, step_seconds: float) -> tuple[str, str]:
    client = stack.live.sync_client("editor")
    thread_id = str(client.threads.create()["thread_id"])
    run = client.runs.create(
        thread_id,
        "steps",
        input={"trace": []},
        config={"configurable": {"step_seconds": step_seconds}},
        stream_mode=["values"],
        stream_resumable=True,
    )
    return thread_id, str(run["run_id"])


def _assert_exactly_once_in_order(events: list[Event]) -> None:
    ids = [event.id for event in events]
    assert len(set(ids)) == len(ids), f"an event came twice: {ids}"
    keys = [tuple(int(part) for part in event_id.split("-")) for event_id in ids]
    assert keys == sorted(keys), f"events out of order: {ids}"
    assert [event.event for event in events][:1] == ["metadata"]
    traces = [event.data["trace"] for event in events if event.event == "values"]
    assert traces == EXPECTED_TRACES
    assert [event.event for event in events if event.event not in ("metadata", "values")] == []


def test_a_stream_survives_a_redis_restart_mid_run(faults: FaultStack) -> None:
    # given a client following a slow run's stream
    thread_id, run_id = _start_run(faults, step_seconds=0.8)
    path = f"/agent/threads/{thread_id}/runs/{run_id}/stream"
    events: list[Event] = []
    stop = threading.Event()
    failures: list[int] = []
    reader = threading.Thread(
        target=lambda: failures.append(
            _follow([faults.live.base_url], path, faults.live.headers(), events, stop)
        )
    )
    reader.start()
    try:
        # when Redis restarts (down for two seconds) while the run is mid-way
        assert faults.node_started(thread_id, "s2"), faults.live.logs()
        faults.restart_redis(down_seconds=2.0)
        reader.join(timeout=60)
    finally:
        stop.set()
        reader.join(timeout=10)

    # then the run completes and the client saw every event exactly once, in order
    assert failures, f"the client never saw the stream end\n{faults.live.logs()}"
    status = faults.sql("SELECT status FROM runtime_run WHERE id = %s", (run_id,))
    assert status == [("success",)], faults.live.logs()
    _assert_exactly_once_in_order(events)
    # and every worker process lived through it (the one holding the run's unacknowledged message
    # used to exit on kombu's AttributeError: atrium/runtime/adapters/kombu_redis.py)
    assert all(worker.poll() is None for worker in faults.workers.values()), faults.live.logs()
    assert "Unrecoverable error" not in faults.live.logs(2000)


def test_a_client_resumes_its_stream_on_another_web_process_when_its_own_dies(faults: FaultStack) -> None:
    # given a client following a slow run's stream through a second web process
    other_url, other = faults.start_web("web-doomed")
    thread_id, run_id = _start_run(faults, step_seconds=0.6)
    path = f"/agent/threads/{thread_id}/runs/{run_id}/stream"
    events: list[Event] = []
    stop = threading.Event()
    failures: list[int] = []
    urls = [other_url, faults.live.base_url]
    reader = threading.Thread(
        target=lambda: failures.append(_follow(urls, path, faults.live.headers(), events, stop))
    )
    reader.start()
    try:
        # when that web process is killed after the client got part of the stream
        assert wait_until(lambda: sum(e.event == "values" for e in events) >= 2, 30, interval=0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(other.pid, signal.SIGKILL)
        reader.join(timeout=60)
    finally:
        stop.set()
        reader.join(timeout=10)
        other.wait(timeout=10)

    # then the client, reconnected to the other web process with Last-Event-ID, missed and repeated nothing
    assert failures == [1], faults.live.logs()
    _assert_exactly_once_in_order(events)
    status = faults.sql("SELECT status FROM runtime_run WHERE id = %s", (run_id,))
    assert status == [("success",)]
