"""LangGraph's async Postgres checkpointer and store, one connection pool per event loop and process."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp, TTLConfig
from langgraph.store.postgres.aio import AsyncPostgresStore
from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.base import AttemptWithBackoff

from atrium.assistants.graphs import project_ttls
from atrium.runtime.db import CONNECTION_KWARGS, check_idle, conninfo
from atrium.runtime.store_index import ensure_vector_tables, index_config


class _Store(AsyncPostgresStore):
    """LangGraph's store, without pipeline mode for batches that only read. A pipeline buys nothing for
    a read (each GET or search waits for its rows before the next is sent) and costs psycopg a sync per
    statement: the deep agent's memory reads at the start of every run were ~9 % of the worker's CPU."""

    async def _execute_batch(self, grouped_ops: dict[Any, Any], results: list[Any], conn: Any = None) -> None:
        if PutOp in grouped_ops:
            await super()._execute_batch(grouped_ops, results, conn)
            return
        async with self._cursor(pipeline=False) as cur:
            if GetOp in grouped_ops:
                await self._batch_get_ops(grouped_ops[GetOp], results, cur)
            if SearchOp in grouped_ops:
                await self._batch_search_ops(grouped_ops[SearchOp], results, cur)
            if ListNamespacesOp in grouped_ops:
                await self._batch_list_namespaces_ops(grouped_ops[ListNamespacesOp], results, cur)


def store_ttl_config() -> TTLConfig:
    """The project's ``store.ttl`` (default TTL, refresh on read), and expired items never read: an
    item past its TTL is gone for every reader at once, whenever the sweep (beat) deletes it."""
    return {**(project_ttls().store or {}), "omit_expired": True}


@dataclass(frozen=True)
class Persistence:
    pool: AsyncConnectionPool[AsyncConnection[DictRow]]
    checkpointer: AsyncPostgresSaver
    store: AsyncPostgresStore


# After Postgres comes back from a restart, the pool must reconnect within a second or so: runs and
# their lease renewals wait on it, and a lease is only a few seconds long.
RECONNECT_MAX_DELAY = 1.0


class _Pool(AsyncConnectionPool[AsyncConnection[DictRow]]):
    """psycopg_pool retries a failed connection with a doubling delay (1, 2, 4, 8 s...): after a short
    outage the pool could stay empty for seconds while Postgres already answers. Cap the delay."""

    async def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        if attempt is not None:
            attempt.delay = min(attempt.delay, RECONNECT_MAX_DELAY / attempt.DELAY_BACKOFF)
        await super()._add_connection(attempt, growing=growing)


# Keyed by the loop object itself (weakly): a pool belongs to the loop that opened it, and an entry
# dies with its loop, so a new loop can never pick up a dead loop's pool (ids of dead loops get reused).
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Persistence] = weakref.WeakKeyDictionary()
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def persistence() -> Persistence:
    loop = asyncio.get_running_loop()
    found = _by_loop.get(loop)
    if found is not None:
        return found
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        if loop not in _by_loop:
            pool: AsyncConnectionPool[AsyncConnection[DictRow]] = _Pool(
                conninfo(),
                min_size=1,
                max_size=settings.ATRIUM_RUNTIME_POOL_SIZE,
                kwargs=CONNECTION_KWARGS,
                check=check_idle,
                open=False,
            )
            await pool.open()
            store = _Store(pool, ttl=store_ttl_config(), index=index_config())  # type: ignore[arg-type]
            if store.index_config:
                try:
                    async with pool.connection() as conn:
                        await ensure_vector_tables(store, conn)
                except BaseException:
                    await pool.close()
                    raise
            _by_loop[loop] = Persistence(
                pool=pool,
                checkpointer=AsyncPostgresSaver(pool),  # type: ignore[arg-type]
                store=store,
            )
    return _by_loop[loop]


async def close_persistence() -> None:
    found = _by_loop.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.pool.close()
