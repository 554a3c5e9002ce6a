"""Usage and budgets through the real stack: the deep agent on the offline model (which reports
deterministic `usage_metadata`), a real worker recording what each run's model calls spent, the API
showing it to whom it belongs, and budgets stopping runs (docs/adr/0024-usage-and-budgets.md)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.conformance.agent_support import (
    Identity,
    agent_assistant,
    identities_of,
    say,
)
from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import collect, new_thread
from atrium.runtime.tests.live_stack import MODEL_PRICES


@pytest.fixture
def who(stack: LiveStack, django_db_blocker: Any) -> dict[str, Identity]:
    return identities_of(stack, django_db_blocker)


async def usage_rows(django_db_blocker: Any, *, thread_id: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(_usage_rows, django_db_blocker, thread_id=thread_id)


def _usage_rows(django_db_blocker: Any, *, thread_id: str) -> list[dict[str, Any]]:
    from django.db import connection

    from atrium.core.tenancy import system_scope
    from atrium.usage.models import ModelUsage

    with django_db_blocker.unblock(), system_scope():
        try:
            return list(
                ModelUsage.objects.filter(thread_id=thread_id)
                .order_by("created_at")
                .values(
                    "run_id",
                    "org_id",
                    "user_id",
                    "assistant_id",
                    "model",
                    "calls",
                    "input_tokens",
                    "output_tokens",
                    "cached_input_tokens",
                    "cost",
                )
            )
        finally:
            connection.close()  # this thread's: the test database is dropped at the end


def _model_calls(values: dict[str, Any]) -> list[dict[str, int]]:
    return [m["usage_metadata"] for m in values["messages"] if m["type"] == "ai"]


def _price(input_tokens: int, output_tokens: int, cached_input_tokens: int) -> Decimal:
    prices = MODEL_PRICES["offline"]
    fresh = input_tokens - cached_input_tokens
    return (
        fresh * Decimal(prices["input"])
        + cached_input_tokens * Decimal(prices["cached_input"])
        + output_tokens * Decimal(prices["output"])
    ) / 1_000_000


async def test_a_run_records_the_usage_of_its_model_calls(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given an assistant of the deep agent, used by an end user
    user = who["enduser"]
    assistant_id = await agent_assistant(stack.client("editor"))
    stack.admin_approve(assistant_id)
    client = stack.client("enduser")

    # when the user asks for a plan (several model calls: the todos, each step, the answer)
    tid, values = await say(client, assistant_id, "plan a picnic")

    # then one row holds the run's usage: the sum of its model calls' reported usage, priced
    calls = _model_calls(values)
    assert len(calls) >= 3
    runs = await client.runs.list(tid)
    rows = await usage_rows(django_db_blocker, thread_id=tid)
    inputs = sum(c["input_tokens"] for c in calls)
    outputs = sum(c["output_tokens"] for c in calls)
    cached = sum(c.get("input_token_details", {}).get("cache_read", 0) for c in calls)
    assert 0 < cached < inputs  # the offline model reports earlier messages as cached input
    assert rows == [
        {
            "run_id": _uuid(runs[0]["run_id"]),
            "org_id": _uuid(user.org_id),
            "user_id": int(user.user_id),
            "assistant_id": _uuid(assistant_id),
            "model": "offline",
            "calls": len(calls),
            "input_tokens": inputs,
            "output_tokens": outputs,
            "cached_input_tokens": cached,
            "cost": _price(inputs, outputs, cached),
        }
    ]


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(str(value))


def _db_totals(django_db_blocker: Any, **filters: Any) -> dict[str, int]:
    """This month's usage rows matching `filters`, summed (the API's truth, read beside it)."""
    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone

    from atrium.core.tenancy import system_scope
    from atrium.usage.budgets import period_start
    from atrium.usage.models import ModelUsage

    with django_db_blocker.unblock(), system_scope():
        try:
            since = period_start("month", timezone.now())
            sums = ModelUsage.objects.filter(created_at__gte=since, **filters).aggregate(
                calls=Sum("calls"), input_tokens=Sum("input_tokens"), output_tokens=Sum("output_tokens")
            )
        finally:
            connection.close()
    return {k: int(v or 0) for k, v in sums.items()}


def _figures(totals: dict[str, Any]) -> dict[str, int]:
    return {k: totals[k] for k in ("calls", "input_tokens", "output_tokens")}


async def _control(stack: LiveStack, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{stack.base_url}/api/v1/orgs/{stack.org_slug('admin')}") as http:
        return await http.request(method, path, headers=stack.headers(who), timeout=30, **kwargs)


async def test_members_see_their_own_usage_and_admins_the_orgs(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given two end users who each ran the agent
    assistant_id = await agent_assistant(stack.client("editor"))
    stack.admin_approve(assistant_id)
    await say(stack.client("enduser"), assistant_id, "plan a walk")
    await say(stack.client("enduser2"), assistant_id, "plan a much longer and more elaborate walk")
    mine = await asyncio.to_thread(_db_totals, django_db_blocker, user_id=int(who["enduser"].user_id))
    theirs = await asyncio.to_thread(_db_totals, django_db_blocker, user_id=int(who["enduser2"].user_id))
    assert mine["calls"]
    assert theirs["calls"]

    # when the first asks for their usage, then they see theirs, and only theirs
    response = await _control(stack, "enduser", "GET", "/usage/me")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == "month"
    assert _figures(body["totals"]) == mine
    assert body["totals"]["total_tokens"] == mine["input_tokens"] + mine["output_tokens"]
    assert [m["model"] for m in body["by_model"]] == ["offline"]

    # and the org's admin sees each member's and each assistant's
    by_user = await _control(stack, "admin", "GET", "/usage", params={"group_by": "user"})
    assert by_user.status_code == 200, by_user.text
    groups = {g["key"]: g for g in by_user.json()["groups"]}
    assert _figures(groups[who["enduser"].user_id]) == mine
    assert _figures(groups[who["enduser2"].user_id]) == theirs
    assert groups[who["enduser"].user_id]["label"].startswith("enduser-")
    by_assistant = await _control(stack, "admin", "GET", "/usage", params={"group_by": "assistant"})
    assert by_assistant.status_code == 200, by_assistant.text
    assistant_rows = {g["key"]: g for g in by_assistant.json()["groups"]}
    spent_here = await asyncio.to_thread(_db_totals, django_db_blocker, assistant_id=assistant_id)
    assert _figures(assistant_rows[assistant_id]) == spent_here
    assert spent_here["calls"] >= 6  # both users' plans

    # but an end user may not see the org's, and another org's member sees no org at all
    refused = await _control(stack, "enduser", "GET", "/usage", params={"group_by": "user"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    for path in ("/usage/me", "/usage", "/budgets"):
        outside = await _control(stack, "other", "GET", path)
        assert outside.status_code == 404, (path, outside.text)


def _tokens_today(django_db_blocker: Any, user_id: int) -> int:
    from django.db import connection
    from django.db.models import F, Sum
    from django.utils import timezone

    from atrium.core.tenancy import system_scope
    from atrium.usage.budgets import period_start
    from atrium.usage.models import ModelUsage

    with django_db_blocker.unblock(), system_scope():
        try:
            rows = ModelUsage.objects.filter(
                user_id=user_id, created_at__gte=period_start("day", timezone.now())
            )
            return int(rows.aggregate(t=Sum(F("input_tokens") + F("output_tokens")))["t"] or 0)
        finally:
            connection.close()


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_a_spent_budget_stops_another_graphs_run_and_refuses_the_next(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given a graph that is not the deep agent (two model calls, no budget check of its own), and a
    # daily token budget of a member that their next model call will spend
    user = who["enduser2"]
    assistant_id = await _spender_assistant(stack)
    spent = await asyncio.to_thread(_tokens_today, django_db_blocker, int(user.user_id))
    budget = {"user_id": int(user.user_id), "period": "day", "metric": "tokens", "limit": spent + 1}
    made = await _control(stack, "admin", "PUT", "/budgets", json=budget)
    assert made.status_code == 200, made.text
    budget_id = made.json()["id"]
    # and an end user may not change it: 403, and the budget is as it was
    refused = await _control(stack, "enduser2", "PUT", "/budgets", json={**budget, "limit": 10**9})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    listed = (await _control(stack, "admin", "GET", "/budgets")).json()
    assert [(b["id"], b["limit"]) for b in listed if b["user_id"] == int(user.user_id)] == [
        (budget_id, spent + 1)
    ]
    client = stack.client("enduser2")
    try:
        # when the member runs it
        tid, values = await say(client, assistant_id, "plan a party")

        # then the run stops at its second model call, with the budget's error (no interrupt)
        runs = await client.runs.list(tid)
        assert [r["status"] for r in runs] == ["error"]
        assert values["__error__"]["error"] == "BudgetExceeded"
        assert "daily budget of your model usage" in values["__error__"]["message"]
        assert "__interrupt__" not in values
        rows = await usage_rows(django_db_blocker, thread_id=tid)
        assert [r["calls"] for r in rows] == [1]  # the call made before the budget was spent counts

        # and the next run is refused up front, saying why
        async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers("enduser2")) as http:
            again = await http.post(
                f"/threads/{tid}/runs",
                json={
                    "assistant_id": assistant_id,
                    "input": {"messages": [{"type": "human", "content": "hi"}]},
                },
            )
        assert again.status_code == 429, again.text
        assert "daily budget of your model usage" in again.json()["detail"]
        assert [r["run_id"] for r in await client.runs.list(tid)] == [runs[0]["run_id"]]
        # the member sees the spent budget beside their usage
        mine = (await _control(stack, "enduser2", "GET", "/usage/me", params={"period": "day"})).json()
        assert [(b["scope"], b["exceeded"]) for b in mine["budgets"]] == [("user", True)]
        # another member of the org is not held to it
        _, others = await say(stack.client("enduser"), assistant_id, "hello")
        assert "__error__" not in others
        # and the stops are counted, by org, with no user in the labels
        async with httpx.AsyncClient(base_url=stack.base_url) as http:
            scrape = await http.get("/metrics")
        assert scrape.status_code == 200  # a loopback scrape
        labels = {"org": user.org_id, "scope": "user"}
        assert _metric(scrape.text, "atrium_budget_exceeded_total", at="model_call", **labels) >= 1
        assert _metric(scrape.text, "atrium_budget_exceeded_total", at="run_start", **labels) >= 1
        assert _metric(scrape.text, "atrium_model_tokens_total", org=user.org_id, assistant=assistant_id) > 0
        usage_lines = [
            line
            for line in scrape.text.splitlines()
            if line.startswith(("atrium_model_", "atrium_budget_exceeded"))
        ]
        assert usage_lines
        assert not [line for line in usage_lines if "user=" in line or "run=" in line]
    finally:
        deleted = await _control(stack, "admin", "DELETE", f"/budgets/{budget_id}")
        assert deleted.status_code == 204
    # once the admin lifts the budget, the member runs again
    _, after = await say(client, assistant_id, "hello again")
    assert "__error__" not in after


async def _spender_assistant(stack: LiveStack) -> str:
    assistant = await stack.client("editor").assistants.create(
        graph_id="spender", name=f"spender-{uuid.uuid4().hex[:8]}"
    )
    stack.admin_approve(str(assistant["assistant_id"]))
    return str(assistant["assistant_id"])


async def _set_budget(stack: LiveStack, **budget: Any) -> str:
    body = {"period": "day", "metric": "tokens", **budget}
    made = await _control(stack, "admin", "PUT", "/budgets", json=body)
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


async def _new_run(stack: LiveStack, who: str, assistant_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers(who), timeout=30) as http:
        thread = (await http.post("/threads", json={})).json()
        return await http.post(
            f"/threads/{thread['thread_id']}/runs",
            json={"assistant_id": assistant_id, "input": {"messages": [{"type": "human", "content": "hi"}]}},
        )


def _budget_interrupts(values: Any) -> list[dict[str, Any]]:
    assert isinstance(values, dict), values
    return [i["value"] for i in values.get("__interrupt__") or []]


def _org_tokens_today(django_db_blocker: Any, org_id: str) -> int:
    from django.db import connection
    from django.db.models import F, Sum
    from django.utils import timezone

    from atrium.core.tenancy import system_scope
    from atrium.usage.budgets import period_start
    from atrium.usage.models import ModelUsage

    with django_db_blocker.unblock(), system_scope():
        try:
            since = period_start("day", timezone.now())
            rows = ModelUsage.objects.filter(org_id=org_id, created_at__gte=since)
            return int(rows.aggregate(t=Sum(F("input_tokens") + F("output_tokens")))["t"] or 0)
        finally:
            connection.close()


async def test_a_budget_spent_mid_run_pauses_the_deep_agent_until_an_admin_raises_it(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given a daily token budget of a member that the first model call of their next run will spend
    user = who["enduser2"]
    assistant_id = await agent_assistant(stack.client("editor"))
    stack.admin_approve(assistant_id)
    spent = await asyncio.to_thread(_tokens_today, django_db_blocker, int(user.user_id))
    budget = {"user_id": int(user.user_id), "limit": spent + 1}
    budget_id = await _set_budget(stack, **budget)
    client = stack.client("enduser2")
    try:
        # when the member asks the deep agent for a plan (several model calls)
        tid, values = await say(client, assistant_id, "Plan a day in Porto")

        # then the run pauses before its second model call, saying why, instead of failing
        assert "__error__" not in values, values
        [payload] = _budget_interrupts(values)
        assert payload["type"] == "budget_exceeded"
        assert (payload["scope"], payload["period"], payload["metric"]) == ("member", "day", "tokens")
        assert "daily budget of your model usage" in payload["message"]
        assert "an org admin raises the budget" in payload["message"]
        runs = await client.runs.list(tid)
        assert [r["status"] for r in runs] == ["success"]
        thread = await client.threads.get(tid)
        assert thread["status"] == "interrupted"
        state = await client.threads.get_state(tid)
        assert [i["value"] for i in state["interrupts"]] == [payload]
        # and the call made before the budget was spent is recorded
        rows = await usage_rows(django_db_blocker, thread_id=tid)
        assert [r["calls"] for r in rows] == [1]

        # when the member resumes while the budget is still spent (a resume is not refused up front)
        again = await client.runs.wait(tid, assistant_id, command={"resume": {}}, raise_error=False)

        # then the run pauses again with the same payload, having called no model
        assert _budget_interrupts(again) == [payload]
        assert (await client.threads.get(tid))["status"] == "interrupted"
        rows = await usage_rows(django_db_blocker, thread_id=tid)
        assert [r["calls"] for r in rows] == [1]

        # when an org admin raises the budget and the member resumes
        await _set_budget(stack, **{**budget, "limit": 10**9})
        final = await client.runs.wait(tid, assistant_id, command={"resume": {}}, raise_error=False)

        # then the run goes on to the end: the plan's answer, more model calls recorded
        assert isinstance(final, dict)
        assert "__error__" not in final, final
        assert not _budget_interrupts(final)
        assert (await client.threads.get(tid))["status"] == "idle"
        assert _model_calls(final)[-1]["output_tokens"] > 0
        rows = await usage_rows(django_db_blocker, thread_id=tid)
        assert sum(r["calls"] for r in rows) == len(_model_calls(final))
        assert sum(r["calls"] for r in rows) > 2
    finally:
        deleted = await _control(stack, "admin", "DELETE", f"/budgets/{budget_id}")
        assert deleted.status_code == 204


async def test_an_org_budget_pause_shows_a_member_no_spend_of_others(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given another member's spend today, and a daily token budget of the whole org that the next
    # model call will spend
    assistant_id = await agent_assistant(stack.client("editor"))
    stack.admin_approve(assistant_id)
    await say(stack.client("enduser2"), assistant_id, "plan a long walk along the river")
    org_spent = await asyncio.to_thread(_org_tokens_today, django_db_blocker, who["enduser"].org_id)
    assert org_spent > 0
    budget_id = await _set_budget(stack, limit=org_spent + 1)
    client = stack.client("enduser")
    try:
        # when an end user's run of the deep agent reaches it
        _, values = await say(client, assistant_id, "Plan a day in Porto")

        # then the pause names the org's budget and its limit, and no spend (the org's is every
        # member's: only admins see it, as in /usage/me)
        [payload] = _budget_interrupts(values)
        assert set(payload) == {"type", "message", "scope", "period", "metric"}
        assert payload["scope"] == "org"
        assert "your organisation's model usage" in payload["message"]
        assert f"({org_spent + 1} tokens)" in payload["message"]
        assert "used this" not in payload["message"]
        org_now = await asyncio.to_thread(_org_tokens_today, django_db_blocker, who["enduser"].org_id)
        for figure in {org_spent, org_now}:
            assert str(figure) not in payload["message"].replace(str(org_spent + 1), "")
        # and the refusal of their next new run says no more
        refused = await _new_run(stack, "enduser", assistant_id)
        assert refused.status_code == 429, refused.text
        assert "your organisation's model usage" in refused.json()["detail"]
        assert "used this" not in refused.json()["detail"]
        # while the org's admin is told what the org has spent
        told = await _new_run(stack, "admin", assistant_id)
        assert told.status_code == 429, told.text
        assert "used this day" in told.json()["detail"]
    finally:
        deleted = await _control(stack, "admin", "DELETE", f"/budgets/{budget_id}")
        assert deleted.status_code == 204


async def test_a_resume_is_no_way_around_a_spent_budget(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given a member with a finished thread, whose daily token budget is then spent
    user = who["enduser2"]
    assistant_id = await agent_assistant(stack.client("editor"))
    stack.admin_approve(assistant_id)
    client = stack.client("enduser2")
    tid, done = await say(client, assistant_id, "hello")
    assert "__interrupt__" not in done
    spent = await asyncio.to_thread(_tokens_today, django_db_blocker, int(user.user_id))
    budget_id = await _set_budget(stack, user_id=int(user.user_id), limit=spent)
    try:
        before = await usage_rows(django_db_blocker, thread_id=tid)
        headers = stack.headers("enduser2")
        async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=30) as http:
            # when they send a command that resumes and also adds a message, then it is refused up front
            sneaky = await http.post(
                f"/threads/{tid}/runs",
                json={
                    "assistant_id": assistant_id,
                    "command": {
                        "resume": {},
                        "update": {"messages": [{"type": "human", "content": "plan x"}]},
                    },
                },
            )
            assert sneaky.status_code == 429, sneaky.text
            # and a bare resume (let through, for paused threads) with input beside it spends nothing
            bare = await http.post(
                f"/threads/{tid}/runs/wait",
                json={
                    "assistant_id": assistant_id,
                    "command": {"resume": {}},
                    "input": {"messages": [{"type": "human", "content": "plan a trip"}]},
                },
            )
        assert bare.status_code == 200, bare.text
        assert await usage_rows(django_db_blocker, thread_id=tid) == before
        state = await client.threads.get_state(tid)
        assert _model_calls(state["values"]) == _model_calls(done)
    finally:
        deleted = await _control(stack, "admin", "DELETE", f"/budgets/{budget_id}")
        assert deleted.status_code == 204


async def test_a_subagents_model_calls_count_toward_the_run(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given an assistant of the deep agent
    assistant_id = await agent_assistant(stack.client("editor"))
    stack.admin_approve(assistant_id)
    client = stack.client("enduser")
    tid = await new_thread(client)

    # when the user has it research something (the researcher subagent makes model calls of its own),
    # streaming tokens and the subgraphs' values
    parts = await collect(
        client.runs.stream(
            tid,
            assistant_id,
            input={"messages": [{"type": "human", "content": "research tide tables"}]},
            stream_mode=["values", "messages"],
            stream_subgraphs=True,
        ),
        within=30,
    )
    assert "error" not in [p.event for p in parts]

    # then the run's row counts the root's and the subagent's calls, each as the model reported it
    final: dict[str, dict[str, Any]] = {}
    for part in parts:
        if part.event == "values" or part.event.startswith("values|"):
            for message in part.data["messages"]:
                if message["type"] == "ai":
                    final[f"{part.event}:{message['id']}"] = message["usage_metadata"]
    root = [u for key, u in final.items() if key.startswith("values:")]
    subagent = [u for key, u in final.items() if key.startswith("values|")]
    assert root
    assert subagent
    rows = await usage_rows(django_db_blocker, thread_id=tid)
    calls = root + subagent
    assert [(r["calls"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
        (
            len(calls),
            sum(c["input_tokens"] for c in calls),
            sum(c["output_tokens"] for c in calls),
        )
    ]


async def test_a_run_paused_for_approval_and_its_resume_each_record_their_own_calls(
    stack: LiveStack, who: dict[str, Identity], django_db_blocker: Any
) -> None:
    # given an assistant whose writes wait for approval
    client = stack.client("editor")
    assistant_id = await agent_assistant(client, interrupt_on=["write_file"])

    # when a run pauses before its write, and a second run resumes it
    tid, paused = await say(client, assistant_id, "remember for this assistant that usage counts")
    assert paused["__interrupt__"]
    before = _model_calls((await client.threads.get_state(tid))["values"])
    final = await client.runs.wait(
        tid, assistant_id, command={"resume": {"decisions": [{"type": "approve"}]}}, raise_error=False
    )
    assert isinstance(final, dict)
    after = _model_calls(final)

    # then the interrupted run's calls are on its row and the resume's on another
    runs = sorted(await client.runs.list(tid), key=lambda r: r["created_at"])
    rows = await usage_rows(django_db_blocker, thread_id=tid)
    assert [(str(r["run_id"]), r["calls"]) for r in rows] == [
        (runs[0]["run_id"], len(before)),
        (runs[1]["run_id"], len(after) - len(before)),
    ]
    assert sum(r["input_tokens"] for r in rows) == sum(c["input_tokens"] for c in after)
    assert rows[0]["user_id"] == int(who["editor"].user_id)
