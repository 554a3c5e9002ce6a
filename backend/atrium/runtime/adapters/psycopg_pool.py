"""Adapter `psycopg_pool`: the runtime's async pool, reconnecting within a second after an outage.

psycopg_pool retries a failed connection with a doubling delay (1, 2, 4, 8 s...): after a short outage
the pool could stay empty for seconds while Postgres already answers, and runs and their lease renewals
wait on it while a lease is only a few seconds long. This caps the delay. It relies on the private
`AsyncConnectionPool._add_connection(attempt, growing)` and `AttemptWithBackoff`'s `delay` and
`DELAY_BACKOFF` (tests/adapters/test_psycopg_pool.py holds them); with
`ATRIUM_STOCK_LIBRARY_PATHS=psycopg_pool` the pool is psycopg_pool's own, and reconnects more slowly.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.base import AttemptWithBackoff

from atrium.runtime.adapters import stock

RECONNECT_MAX_DELAY = 1.0


class _Pool(AsyncConnectionPool[AsyncConnection[DictRow]]):
    async def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        if attempt is not None:
            attempt.delay = min(attempt.delay, RECONNECT_MAX_DELAY / attempt.DELAY_BACKOFF)
        await super()._add_connection(attempt, growing=growing)


def async_pool(conninfo: str, **options: Any) -> AsyncConnectionPool[AsyncConnection[DictRow]]:
    """An async connection pool (`AsyncConnectionPool`'s arguments): the adapter's, or the stock one."""
    kind = AsyncConnectionPool if stock("psycopg_pool") else _Pool
    return kind(conninfo, **options)
