"""LangGraph's async Postgres checkpointer and store, one connection pool per event loop and process
(the pool and the store through their adapters, atrium/runtime/adapters/)."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from django.conf import settings
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.store.base import TTLConfig
from langgraph.store.postgres.aio import AsyncPostgresStore
from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

from atrium.assistants.graphs import project_ttls
from atrium.runtime.adapters.langgraph_store import postgres_store
from atrium.runtime.adapters.psycopg_pool import async_pool
from atrium.runtime.db import CONNECTION_KWARGS, check_idle, conninfo
from atrium.runtime.store_index import ensure_vector_tables, index_config


def store_ttl_config() -> TTLConfig:
    """The project's ``store.ttl`` (default TTL, refresh on read), and expired items never read: an
    item past its TTL is gone for every reader at once, whenever the sweep (beat) deletes it."""
    return {**(project_ttls().store or {}), "omit_expired": True}


@dataclass(frozen=True)
class Persistence:
    pool: AsyncConnectionPool[AsyncConnection[DictRow]]
    checkpointer: AsyncPostgresSaver
    store: AsyncPostgresStore


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
            pool = async_pool(
                conninfo(),
                min_size=1,
                max_size=settings.ATRIUM_RUNTIME_POOL_SIZE,
                kwargs=CONNECTION_KWARGS,
                check=check_idle,
                open=False,
            )
            await pool.open()
            store = postgres_store(pool, ttl=store_ttl_config(), index=index_config())
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
