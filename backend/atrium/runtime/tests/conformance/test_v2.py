"""Protocol v2 from Python (V2.3, V2.4): the JS rows C1-C15 and H1-H3 run in `test_js_sdk.py`; these
pin what a raw client sees, so a failure here names the endpoint without Node in the way."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import wait_for_status

ROOT_PUMP = {
    "channels": ["values", "checkpoints", "lifecycle", "input", "messages", "tools"],
    "namespaces": [[]],
    "depth": 1,
}


async def _events_until(
    http: httpx.AsyncClient, thread_id: str, body: dict[str, Any], terminal: str
) -> list[dict[str, Any]]:
    events = []
    async with http.stream("POST", f"/threads/{thread_id}/stream/events", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: ") :])
            events.append(event)
            data = event["params"]["data"]
            if (
                event["method"] == "lifecycle"
                and not event["params"]["namespace"]
                and data["event"] == terminal
            ):
                break
    return events


async def test_run_start_then_replay_from_the_runs_first_event(
    stack: LiveStack, http: httpx.AsyncClient
) -> None:
    """C1 and C3: the replay of the latest run begins at its root `running`, not at its terminal event."""
    tid = str(uuid.uuid4())
    body = {"id": 3, "method": "run.start", "params": {"assistant_id": "simple", "input": {"steps": []}}}
    response = await http.post(f"/threads/{tid}/commands", json=body)
    assert response.status_code == 200
    reply = response.json()
    assert reply["type"] == "success"
    assert reply["id"] == 3
    await wait_for_status(stack.client(), tid, reply["result"]["run_id"])
    for _ in range(2):  # a second run: the replay starts at that run's own `running`
        events = await _events_until(http, tid, ROOT_PUMP, "completed")
        lifecycle = [e["params"]["data"]["event"] for e in events if e["method"] == "lifecycle"]
        assert lifecycle == ["running", "completed"]
        assert events[0]["method"] == "lifecycle"
        assert any(e["method"] == "values" for e in events)
        response = await http.post(f"/threads/{tid}/commands", json=body)
        await wait_for_status(stack.client(), tid, response.json()["result"]["run_id"])


async def test_unknown_command_and_bad_body(http: httpx.AsyncClient) -> None:
    """C10."""
    tid = str(uuid.uuid4())
    unknown = await http.post(f"/threads/{tid}/commands", json={"id": 1, "method": "bogus.method"})
    assert unknown.status_code == 200
    assert unknown.json()["type"] == "error"
    assert unknown.json()["error"] == "unknown_command"
    assert unknown.json()["id"] == 1
    bad = await http.post(f"/threads/{tid}/stream/events", json={"channels": []})
    assert bad.status_code == 400


async def test_python_thread_stream_runs_and_resumes(stack: LiveStack) -> None:
    """V2.9: Python 0.4.14 `client.threads.stream` (client-minted thread id, `run.start`, the
    lifecycle watcher, `run.respond`, `thread.output` from `GET /state`)."""
    client = stack.client()
    async with client.threads.stream(assistant_id="simple") as thread:
        started = await thread.run.start(input={"steps": []})
        assert "run_id" in started
        output = await thread.output.with_timeout(20)
        assert output["steps"] == ["first", "second", "third"]
    async with client.threads.stream(assistant_id="approver") as thread:
        await thread.run.start(input={"messages": [{"type": "human", "content": "hi"}]})
        for _ in range(400):  # the SDK exposes the flag only, no event to wait on
            if thread.interrupted:
                break
            await asyncio.sleep(0.05)
        assert thread.interrupts[0]["value"] == {"question": "approve?"}
        assert thread.interrupts[0]["namespace"] == []
        await thread.run.respond("yes")
        output = await thread.output.with_timeout(20)
        assert output["messages"][-1]["content"] == "approved=yes"
        assert thread.interrupted is False


async def test_command_error_codes(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """V2.3: errors stay HTTP 200 with a `type:"error"` envelope and a specific code."""
    tid = str(uuid.uuid4())

    async def send(thread_id: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await http.post(
            f"/threads/{thread_id}/commands", json={"id": 9, "method": method, "params": params}
        )
        assert response.status_code == 200
        return dict(response.json())

    started = await send(tid, "run.start", {"assistant_id": "slow", "input": {"n": 30, "delay": 0.1}})
    assert started["type"] == "success"
    busy = await send(
        tid, "run.start", {"assistant_id": "slow", "input": {"n": 1}, "multitaskStrategy": "reject"}
    )
    assert busy["type"] == "error"
    assert busy["id"] == 9
    assert "already running" in busy["message"]
    bad_fork = await send(
        tid,
        "run.start",
        {"assistant_id": "slow", "config": {"configurable": {"checkpoint_id": "not-a-uuid"}}},
    )
    assert bad_fork["error"] == "invalid_argument"
    assert (await send("not-a-uuid", "run.start", {"assistant_id": "slow"}))["error"] == "invalid_argument"
    no_run = await send(
        str(uuid.uuid4()), "input.respond", {"namespace": [], "interrupt_id": "x", "response": 1}
    )
    assert no_run["error"] == "no_such_run"
    not_json = await http.post(
        f"/threads/{tid}/commands", content=b"nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    await stack.client().runs.cancel(tid, started["result"]["run_id"])


async def _command(
    stack: LiveStack, who: str, thread_id: str, params: dict[str, Any], method: str = "run.start"
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers(who), timeout=30) as raw:
        response = await raw.post(
            f"/threads/{thread_id}/commands", json={"id": 4, "method": method, "params": params}
        )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_run_start_refusals_say_why_with_a_specific_code(stack: LiveStack) -> None:
    """V2.3: the platform's refusals of a run keep HTTP 200 and the envelope, with the protocol's
    nearest code, the platform's own in `reason` (the envelope is extensible) and the Agent API's
    message, not a bare `unknown_error`."""
    slug = await asyncio.to_thread(stack.org_slug)
    control = httpx.AsyncClient(
        base_url=f"{stack.base_url}/api/v1/orgs/{slug}", headers=stack.headers("admin"), timeout=10
    )
    async with control:
        members = (await control.get("/members")).json()
        user_id = next(m["user"]["id"] for m in members if m["user"]["email"].startswith("editor2-"))
        spent = {"user_id": user_id, "period": "month", "metric": "tokens", "limit": 0}
        budget = await control.put("/budgets", json=spent)
        assert budget.status_code == 200, budget.text
        tid = str(uuid.uuid4())
        try:
            # a member whose budget is spent: told so, and no run or thread is made
            params = {"assistant_id": "simple", "input": {"steps": []}}
            refused = await _command(stack, "editor2", tid, params)
            assert (refused["type"], refused["id"], refused["error"], refused["reason"]) == (
                "error",
                4,
                "permission_denied",
                "budget_exceeded",
            )
            assert refused["message"].startswith("The monthly budget of your model usage (0 tokens) is spent")
            async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers("editor2")) as raw:
                assert (await raw.get(f"/threads/{tid}")).status_code == 404
        finally:
            deleted = await control.delete(f"/budgets/{budget.json()['id']}")
            assert deleted.status_code == 204

    # an assistant that does not exist, what an end user may not set, another member's thread, a busy
    # thread, bad params
    missing = await _command(stack, "editor", tid, {"assistant_id": str(uuid.uuid4())})
    assert (missing["error"], missing["reason"]) == ("no_such_run", "not_found"), missing
    override = {"assistant_id": "simple", "context": {"system_prompt": "obey me"}}
    denied = await _command(stack, "enduser", str(uuid.uuid4()), override)
    assert (denied["error"], denied["reason"]) == ("permission_denied", "permission_denied"), denied
    assert "system_prompt" in denied["message"]
    started = await _command(stack, "editor", tid, {"assistant_id": "slow", "input": {"n": 30, "delay": 0.1}})
    assert started["type"] == "success", started
    try:
        theirs = await _command(stack, "editor2", tid, {"assistant_id": "simple"})
        assert (theirs["error"], theirs["reason"]) == ("no_such_run", "not_found"), theirs
        busy = await _command(
            stack, "editor", tid, {"assistant_id": "slow", "input": {"n": 1}, "multitaskStrategy": "reject"}
        )
        assert (busy["error"], busy["reason"]) == ("invalid_argument", "thread_busy"), busy
        assert "already running" in busy["message"]
        # params of the wrong type were a 500 deep inside run creation
        for params in ({"metadata": [1]}, {"config": "x"}, {"config": {"configurable": "x"}}, {"context": 5}):
            bad = await _command(stack, "editor", str(uuid.uuid4()), {"assistant_id": "simple", **params})
            assert (bad["error"], bad["reason"]) == ("invalid_argument", "validation_error"), (params, bad)
            assert bad["message"].endswith("must be an object."), bad
        bad_answer = await _command(stack, "editor", tid, {"responses": "yes"}, method="input.respond")
        assert (bad_answer["error"], bad_answer["reason"]) == ("invalid_argument", "validation_error")
    finally:
        await stack.client().runs.cancel(tid, started["result"]["run_id"])


def _limit_runs(django_db_blocker: Any, slug: str, per_user: int | None) -> None:
    from django.db import connection

    from atrium.core.tenancy import system_scope
    from atrium.orgs.models import Organization, OrgSettings

    with django_db_blocker.unblock(), system_scope():
        try:
            org = Organization.objects.get(slug=slug)
            OrgSettings.unscoped.update_or_create(org=org, defaults={"runs_per_minute_per_user": per_user})
        finally:
            connection.close()


async def test_a_rate_limited_run_start_says_when_to_retry(stack: LiveStack, django_db_blocker: Any) -> None:
    """V2.3: a run refused by the org's rate limit is `unknown_error` (the protocol has no closer
    code) with `reason: rate_limited`, the Agent API's message and `retry_after` in seconds. In org
    `fuzz`, whose limits nobody else relies on."""
    slug = stack.org_slug("fuzz")
    await asyncio.to_thread(_limit_runs, django_db_blocker, slug, 1)
    try:
        # the server reads an org's limits again within ATRIUM_LIMITS_CACHE_SECONDS (10 s)
        refused: dict[str, Any] = {}
        for _ in range(120):
            params = {"assistant_id": "simple", "input": {"steps": []}}
            refused = await _command(stack, "fuzz", str(uuid.uuid4()), params)
            if refused["type"] == "error":
                break
            await asyncio.sleep(0.5)
        assert (refused["type"], refused.get("error"), refused.get("reason")) == (
            "error",
            "unknown_error",
            "rate_limited",
        ), refused
        assert refused["message"].startswith(
            "Rate limit exceeded: new runs per minute are limited to 1 per member and "
        )
        assert 1 <= refused["retry_after"] <= 60
    finally:
        await asyncio.to_thread(_limit_runs, django_db_blocker, slug, None)
        # and the org runs again once the server reads the limit lifted, before the next test uses it
        for _ in range(40):
            params = {"assistant_id": "simple", "input": {"steps": []}}
            if (await _command(stack, "fuzz", str(uuid.uuid4()), params))["type"] == "success":
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError("the lifted rate limit still refuses runs")
