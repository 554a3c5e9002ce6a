"""Adapter `langgraph_store`: LangGraph's Postgres store, without pipeline mode for batches that only read.

A pipeline buys nothing for a read (each GET or search waits for its rows before the next is sent) and
costs psycopg a sync per statement: the deep agent's memory reads at the start of every run were ~9 %
of the worker's CPU. It overrides the private `AsyncPostgresStore._execute_batch` and calls its
`_cursor`, `_batch_get_ops`, `_batch_search_ops` and `_batch_list_namespaces_ops`
(tests/adapters/test_langgraph_store.py holds them); with `ATRIUM_STOCK_LIBRARY_PATHS=langgraph_store`
the store is LangGraph's own.
"""

from __future__ import annotations

from typing import Any

from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp
from langgraph.store.postgres.aio import AsyncPostgresStore

from atrium.runtime.adapters import stock


class _Store(AsyncPostgresStore):
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


def postgres_store(conn: Any, **options: Any) -> AsyncPostgresStore:
    """The runtime's store on `conn` (`AsyncPostgresStore`'s arguments): the adapter's, or the stock one."""
    kind = AsyncPostgresStore if stock("langgraph_store") else _Store
    return kind(conn, **options)
