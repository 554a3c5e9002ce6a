"""The recorder a run's callbacks carry, on the worker's kind of pool: what it counts, what it writes,
and the budget check before each model call, from async graphs and from sync nodes' threads."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from django.utils import timezone
from psycopg_pool import AsyncConnectionPool

from atrium.runtime.db import CONNECTION_KWARGS, conninfo
from atrium.usage.budgets import BudgetExceeded
from atrium.usage.models import Budget, ModelUsage
from atrium_agents.models.offline import OfflineChatModel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def budget(end_user) -> Budget:
    return Budget.unscoped.create(
        org=end_user.org, user=end_user.user, period="day", metric="tokens", limit=1
    )


def _rows() -> list[dict[str, Any]]:
    from django.db import connection

    try:
        return list(ModelUsage.unscoped.values("calls", "input_tokens", "output_tokens"))
    finally:
        connection.close()  # this thread's: the test database is dropped at the end


async def _recorder(member: Any) -> Any:
    from atrium.usage.recorder import UsageRecorder

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo(), kwargs=CONNECTION_KWARGS, open=False)
    await pool.open()
    return UsageRecorder(
        run_id=str(uuid.uuid4()),
        thread_id=str(uuid.uuid4()),
        org_id=str(member.org.id),
        user_id=member.user.id,
        assistant_id=None,
        pool=pool,
    )


async def test_the_call_that_spends_the_budget_is_the_last_and_is_written(end_user, budget) -> None:
    # given a run of a member whose daily budget is 1 token, and nothing spent yet
    recorder = await _recorder(end_user)
    model = OfflineChatModel()
    config: Any = {"callbacks": [recorder]}
    try:
        # when the graph calls its model twice
        first = await model.ainvoke("hello", config=config)
        with pytest.raises(BudgetExceeded, match="daily budget of your model usage"):
            await model.ainvoke("hello again", config=config)
        await recorder.flush()
    finally:
        await recorder.pool.close()

    # then the first call is recorded, exactly as the model reported it, and the second was not made
    rows = await asyncio.to_thread(
        lambda: list(ModelUsage.unscoped.values("calls", "input_tokens", "output_tokens"))
    )
    assert rows == [
        {
            "calls": 1,
            "input_tokens": first.usage_metadata["input_tokens"],
            "output_tokens": first.usage_metadata["output_tokens"],
        }
    ]


def _spent(member: Any) -> None:
    from django.db import connection

    try:
        ModelUsage.unscoped.create(
            org=member.org,
            user=member.user,
            run_id=uuid.uuid4(),
            model="offline",
            calls=1,
            input_tokens=5,
            created_at=timezone.now(),
        )
    finally:
        connection.close()


async def test_a_sync_nodes_model_call_is_held_to_the_budget_too(end_user, budget) -> None:
    # given a spent budget (a previous run's usage)
    await asyncio.to_thread(_spent, end_user)
    recorder = await _recorder(end_user)
    try:
        # when a sync node calls its model on a thread of its own (LangChain runs the handler on a
        # new loop there), then the check still reads the pool of the worker's loop and refuses
        with pytest.raises(BudgetExceeded):
            await asyncio.to_thread(OfflineChatModel().invoke, "hello", config={"callbacks": [recorder]})
    finally:
        await recorder.pool.close()
    assert recorder.totals == {}
