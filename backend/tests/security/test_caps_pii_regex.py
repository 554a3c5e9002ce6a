"""A builder's custom PII pattern cannot stall the worker's shared event loop: a pattern that
backtracks without end on a user's input fails that run closed, and the worker's other runs keep
going meanwhile. Patterns a probe shows to be slow are refused when the assistant is saved."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.live_stack import LiveStack
from atrium.runtime.tests.persisted import postgres_hits, redis_hits

# Nested repetition over Greek letters, written with escapes so no probe finds it slow: only the run-time
# bound stops it. On 44 letters and a full stop the standard `re` backtracks for minutes.
SLOW_PATTERN = r"([\u03b2-\u03c8]|[\u03b2-\u03c8]{2})+$"
SLOW_INPUT = "\u03b3" * 44 + "."


def test_a_catastrophic_pattern_fails_its_run_closed_and_other_runs_keep_going(
    stack: LiveStack, django_db_blocker: Any
) -> None:
    # given an assistant whose builder wrote a pattern that backtracks without end on some input
    client = stack.sync_client()
    assistant = client.assistants.create(
        graph_id="agent", context={"pii_rules": [{"type": "greek", "pattern": SLOW_PATTERN}]}
    )
    # and another run on the same worker, ticking every 0.1 s for 4 s
    ticks: list[float] = []
    slow_tid = client.threads.create()["thread_id"]

    def tick() -> None:
        for part in client.runs.stream(slow_tid, "slow", input={"n": 40, "delay": 0.1}, stream_mode="custom"):
            if part.event == "custom":
                ticks.append(time.monotonic())

    ticking = threading.Thread(target=tick)
    ticking.start()
    while not ticks:
        time.sleep(0.05)

    # when a user sends the input the pattern chokes on
    tid = client.threads.create()["thread_id"]
    with pytest.raises(Exception, match="PIIScrubTimeoutError: The assistant's PII rules took too long"):
        client.runs.wait(
            tid, assistant["assistant_id"], input={"messages": [{"type": "human", "content": SLOW_INPUT}]}
        )
    ticking.join(timeout=60)

    # then that run failed, saying why, and nothing of its input was stored
    assert client.runs.list(tid)[0]["status"] == "error"
    assert client.threads.get(tid)["status"] == "error"
    assert postgres_hits(SLOW_INPUT[:40], django_db_blocker) == []
    assert redis_hits(SLOW_INPUT[:40]) == []
    # and the other run kept ticking throughout: no pause near the pattern's minutes
    assert len(ticks) == 40
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert max(gaps) < 2.0, gaps


def test_a_pattern_slow_on_a_probe_is_refused_at_save(stack: LiveStack) -> None:
    with httpx.Client(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as http:
        count = len(http.post("/assistants/search", json={"limit": 1000}).json())
        response = http.post(
            "/assistants",
            json={"graph_id": "agent", "context": {"pii_rules": [{"type": "x", "pattern": "(a+)+$"}]}},
        )
        assert response.status_code == 422
        assert "too slow" in response.json()["detail"]
        response = http.post(
            "/assistants",
            json={"graph_id": "agent", "context": {"pii_rules": [{"type": "x", "pattern": "(a"}]}},
        )
        assert response.status_code == 422
        assert "does not compile" in response.json()["detail"]
        assert len(http.post("/assistants/search", json={"limit": 1000}).json()) == count
