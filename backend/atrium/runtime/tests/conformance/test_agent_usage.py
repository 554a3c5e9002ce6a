"""Usage and budgets through the real stack: the deep agent on the offline model (which reports
deterministic `usage_metadata`), a real worker recording what each run's model calls spent, the API
showing it to whom it belongs, and budgets stopping runs (docs/adr/0024-usage-and-budgets.md)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest

from atrium.runtime.tests.conformance.agent_support import (
    Identity,
    agent_assistant,
    identities_of,
    say,
)
from atrium.runtime.tests.conformance.conftest import LiveStack
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


def _price(input_tokens: int, output_tokens: int) -> Decimal:
    prices = MODEL_PRICES["offline"]
    return (input_tokens * Decimal(prices["input"]) + output_tokens * Decimal(prices["output"])) / 1_000_000


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
            "cached_input_tokens": 0,
            "cost": _price(inputs, outputs),
        }
    ]


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(str(value))
