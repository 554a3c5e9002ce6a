"""Adapter `psycopg_pool` (atrium/runtime/adapters/psycopg_pool.py): the psycopg_pool internals it
relies on (contract), its capped reconnect delay, and the stock pool when it is switched off."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from django.test import override_settings
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.base import AttemptWithBackoff

from atrium.runtime.adapters.psycopg_pool import RECONNECT_MAX_DELAY, _Pool, async_pool
from atrium.runtime.db import CONNECTION_KWARGS, conninfo
from atrium.runtime.tests.adapters.contract import assert_signature, assert_source, broken


def test_contract_the_pools_reconnect_hook_and_backoff_are_what_the_adapter_was_written_against() -> None:
    hook = AsyncConnectionPool._add_connection
    assert_source("psycopg_pool", "AsyncConnectionPool._add_connection", hook, "a596d53dc5ceb503")
    assert_signature(
        "psycopg_pool",
        "AsyncConnectionPool._add_connection",
        hook,
        "(self, attempt: 'AttemptWithBackoff | None', growing: 'bool' = False) -> 'None'",
    )
    assert_source("psycopg_pool", "AttemptWithBackoff", AttemptWithBackoff, "a8dd4e8928ad0204")
    assert inspect.iscoroutinefunction(hook), broken("psycopg_pool", "_add_connection", "no longer async")


def test_a_retry_after_a_long_backoff_waits_at_most_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # given an attempt that psycopg_pool has backed off to 8 s (1, 2, 4, 8)
    attempt = AttemptWithBackoff(timeout=300)
    for _ in range(4):
        attempt.update_delay(0.0)
    assert attempt.delay > 4
    seen: list[float] = []

    async def stock_add(self: object, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        assert attempt is not None
        attempt.update_delay(0.0)  # what the stock method does when the connection fails again
        seen.append(attempt.delay)

    monkeypatch.setattr(AsyncConnectionPool, "_add_connection", stock_add)
    pool = _Pool("dbname=none", open=False)
    # when the adapter's pool tries again
    asyncio.run(pool._add_connection(attempt))
    # then the next wait is the cap, not 16 s
    assert seen == [RECONNECT_MAX_DELAY]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stock", [False, True])
def test_the_runtime_pool_serves_queries_on_both_paths(stock: bool) -> None:
    async def query() -> tuple[type, int]:
        pool = async_pool(conninfo(), min_size=1, max_size=2, kwargs=CONNECTION_KWARGS, open=False)
        await pool.open()
        try:
            async with pool.connection() as conn:
                row = await (await conn.execute("SELECT 41 + 1 AS n")).fetchone()
            return type(pool), row["n"]
        finally:
            await pool.close()

    with override_settings(ATRIUM_STOCK_LIBRARY_PATHS=frozenset({"psycopg_pool"} if stock else set())):
        kind, answer = asyncio.run(query())
    assert kind is (AsyncConnectionPool if stock else _Pool)
    assert answer == 42
