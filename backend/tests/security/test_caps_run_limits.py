"""Runs are bounded: a wall-clock and a step cap (assistant, org, operator; the lowest wins, a request
cannot raise them), and a cap on the events a run may append to its stream. A capped run ends `error`
with a message saying which limit, keeps the steps it completed, and frees its thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from atrium.core.run_limits import run_limits_resolve
from atrium.runtime.tests.live_stack import REDIS_DB, STREAM_CAP, LiveStack, _redis_url

# Far more than any cap below lets run: without the caps these runs take minutes, or never end.
ENDLESS = {"n": 100_000, "delay": 0.2}


def _wait_ended(client: Any, thread_id: str, run_id: str, *, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        run: dict[str, Any] = client.runs.get(thread_id, run_id)
        if run["status"] not in ("pending", "running"):
            return run
        if time.monotonic() > deadline:
            client.runs.cancel(thread_id, run_id)  # leave the shared worker as it was
            pytest.fail(f"run still {run['status']} after {within} s: no limit stopped it")
        time.sleep(0.2)


def _ticks(client: Any, thread_id: str) -> list[int]:
    return list(client.threads.get_state(thread_id)["values"].get("ticks") or [])


@pytest.fixture
def org_b_caps(stack: LiveStack, django_db_blocker: Any) -> Iterator[Any]:
    """Sets org `b`'s run caps (as its admin would in the Django admin) and restores them after."""
    from atrium.orgs.models import Organization, OrgSettings

    slug = stack.org_slug("other")  # the live stack's org b (other stacks seed orgs of their own)

    def set_caps(**caps: int | None) -> None:
        with django_db_blocker.unblock():
            org = Organization.objects.get(slug=slug)
            OrgSettings.unscoped.update_or_create(org=org, defaults=caps)

    yield set_caps
    set_caps(run_max_seconds=None, run_max_steps=None)


def test_a_run_past_its_assistants_time_limit_ends_with_an_error_and_keeps_its_steps(
    stack: LiveStack,
) -> None:
    # given an assistant whose runs may take 2 seconds
    client = stack.sync_client()
    assistant = client.assistants.create(graph_id="slow", config={"max_run_seconds": 2})
    tid = client.threads.create()["thread_id"]

    # when a client asks for 10 minutes and streams a run that would never end in time
    started = time.monotonic()
    parts = list(
        client.runs.stream(
            tid,
            assistant["assistant_id"],
            input=ENDLESS,
            config={"max_run_seconds": 600},
            stream_mode=["custom", "values"],
        )
    )
    elapsed = time.monotonic() - started

    # then the run was stopped at the assistant's limit, and the stream says so
    assert elapsed < 15
    assert parts[-1].event == "error"
    assert parts[-1].data["error"] == "RunTimeLimitExceeded"
    assert "time limit of 2 seconds" in parts[-1].data["message"]
    run = client.runs.list(tid)[0]
    assert run["status"] == "error"
    # and the steps it completed are kept in the thread's checkpoints
    ticks = _ticks(client, tid)
    assert 3 <= len(ticks) <= 12
    assert len(client.threads.get_history(tid, limit=100)) >= len(ticks)
    assert client.threads.get(tid)["status"] == "error"

    # and the thread is free: the next run on it starts and finishes
    done = client.runs.wait(tid, assistant["assistant_id"], input={"n": len(ticks) + 1, "delay": 0})
    assert isinstance(done, dict)
    assert len(done["ticks"]) == len(ticks) + 1


def test_a_request_cannot_raise_the_assistants_step_limit(stack: LiveStack) -> None:
    # given an assistant whose runs may take 5 steps
    client = stack.sync_client()
    assistant = client.assistants.create(graph_id="slow", config={"recursion_limit": 5})
    tid = client.threads.create()["thread_id"]

    # when a run asks for 1000 steps and needs 50
    run = client.runs.create(
        tid, assistant["assistant_id"], input={"n": 50, "delay": 0}, config={"recursion_limit": 1000}
    )
    ended = _wait_ended(client, tid, run["run_id"], within=30)

    # then it ended at the assistant's 5 steps with LangGraph's recursion error, its steps kept
    assert ended["status"] == "error"
    state = client.threads.get_state(tid)
    assert state["values"]["ticks"] == [0, 1, 2, 3, 4]
    last = list(client.runs.join_stream(tid, run["run_id"], last_event_id="-1"))[-1]
    assert last.event == "error"
    assert last.data["error"] == "GraphRecursionError"
    assert "step limit of 5" in last.data["message"]
    assert client.threads.get(tid)["status"] == "error"


def test_a_lower_request_limit_applies(stack: LiveStack) -> None:
    client = stack.sync_client()
    tid = client.threads.create()["thread_id"]
    # a run may lower the limits for itself (no assistant limit set)
    run = client.runs.create(tid, "slow", input={"n": 50, "delay": 0}, config={"recursion_limit": 3})
    assert _wait_ended(client, tid, run["run_id"], within=30)["status"] == "error"
    assert _ticks(client, tid) == [0, 1, 2]


def test_the_orgs_caps_win_over_a_higher_assistant_limit(stack: LiveStack, org_b_caps: Any) -> None:
    # given org b's admin caps runs at 4 steps and 2 seconds
    org_b_caps(run_max_steps=4, run_max_seconds=2)
    client = stack.sync_client("other")  # org b's editor
    assistant = client.assistants.create(
        graph_id="slow", config={"recursion_limit": 1000, "max_run_seconds": 3600}
    )

    # when a run needs 50 quick steps
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, assistant["assistant_id"], input={"n": 50, "delay": 0})

    # then the org's step cap ended it
    assert _wait_ended(client, tid, run["run_id"], within=30)["status"] == "error"
    assert _ticks(client, tid) == [0, 1, 2, 3]

    # when a run would take minutes in few steps
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, assistant["assistant_id"], input={"n": 3, "delay": 600})

    # then the org's time cap ended it
    ended = _wait_ended(client, tid, run["run_id"], within=15)
    assert ended["status"] == "error"
    assert client.threads.get(tid)["status"] == "error"


def test_run_limits_resolve_takes_the_lowest_cap_and_the_operators_bounds_the_org() -> None:
    def resolve(**kw: Any) -> tuple[int | None, int | None]:
        values: dict[str, Any] = {
            "assistant_config": {},
            "requested_config": {},
            "graph_steps": None,
            "org_steps": None,
            "org_seconds": None,
            "operator_steps": 10_000,
            "operator_seconds": 3600,
        }
        limits = run_limits_resolve(**{**values, **kw})
        return limits.steps, limits.seconds

    # nobody asks: the operator's caps
    assert resolve() == (10_000, 3600)
    # an org value above the operator's does not raise it
    assert resolve(org_steps=50_000, org_seconds=86_400) == (10_000, 3600)
    # a request above the assistant's does not raise it; below, it lowers it
    assistant = {"recursion_limit": 20, "max_run_seconds": 60}
    assert resolve(assistant_config=assistant, requested_config={"recursion_limit": 999}) == (20, 60)
    assert resolve(assistant_config=assistant, requested_config={"max_run_seconds": 5}) == (20, 5)
    # the graph's own limit applies when the run sets none
    assert resolve(graph_steps=25) == (25, 3600)
    # operator 0: no operator cap
    assert resolve(operator_steps=0, operator_seconds=0) == (None, None)


@pytest.mark.parametrize(
    "config", [{"recursion_limit": "lots"}, {"max_run_seconds": 0}, {"max_run_seconds": True}]
)
def test_invalid_limits_are_refused_with_422(stack: LiveStack, config: dict[str, Any]) -> None:
    client = stack.sync_client()
    tid = client.threads.create()["thread_id"]
    crons = len(client.crons.search(limit=1000))
    with httpx.Client(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as http:
        response = http.post(f"/threads/{tid}/runs", json={"assistant_id": "slow", "config": config})
        assert response.status_code == 422
        assert "config." in response.json()["detail"]
        created = http.post("/assistants", json={"graph_id": "slow", "config": config})
        assert created.status_code == 422
        assert "config." in created.json()["detail"]
        cron = http.post(
            "/runs/crons", json={"assistant_id": "slow", "schedule": "0 9 * * *", "config": config}
        )
        assert cron.status_code == 422
        assert "config." in cron.json()["detail"]
    assert client.runs.list(tid) == []
    assert len(client.crons.search(limit=1000)) == crons


def test_a_run_that_streams_without_end_is_stopped_at_the_stream_cap(stack: LiveStack) -> None:
    import redis
    from django.conf import settings

    # given a graph that writes events without end
    client = stack.sync_client()
    tid = client.threads.create()["thread_id"]

    # when it runs
    run = client.runs.create(tid, "chatter", input={}, stream_mode=["custom"])
    ended = _wait_ended(client, tid, run["run_id"], within=30)

    # then it was ended with an error at the cap: its Redis stream holds at most the cap, plus the
    # error event and the end marker
    assert ended["status"] == "error"
    r = redis.Redis.from_url(_redis_url(settings.REDIS_URL, REDIS_DB))
    length = r.xlen(f"atrium:run:{run['run_id']}:events")
    assert STREAM_CAP < length <= STREAM_CAP + 2
    # and a client replaying the run is told that events were not recorded, not left guessing
    parts = list(client.runs.join_stream(tid, run["run_id"], last_event_id="-1"))
    assert parts[-1].event == "error"
    assert parts[-1].data["error"] == "RunStreamLimitExceeded"
    assert "not recorded" in parts[-1].data["message"]
    custom = [p for p in parts if p.event == "custom"]
    assert [p.data["n"] for p in custom] == list(range(len(custom)))
    assert client.threads.get(tid)["status"] == "error"
