"""Adapter `langgraph_store`: LangGraph's Postgres store, without pipeline mode for batches that only
read, and with a `store.index`'s embeddings made before a batch takes a connection.

A pipeline buys nothing for a read (each GET or search waits for its rows before the next is sent) and
costs psycopg a sync per statement: the deep agent's memory reads at the start of every run were ~9 %
of the worker's CPU. The stock store also calls the embeddings (a provider's API, seconds when it is
slow) inside its cursor, holding a connection of the pool every org shares for the whole call; here
the batch's texts are embedded first and the library's call is answered from those vectors.

It overrides the private `AsyncPostgresStore._execute_batch`, calls its `_cursor`, `_batch_get_ops`,
`_batch_search_ops`, `_batch_list_namespaces_ops`, `_prepare_batch_PUT_queries` and
`_prepare_batch_search_queries`, and wraps its `embeddings` (tests/adapters/test_langgraph_store.py
holds them); with `ATRIUM_STOCK_LIBRARY_PATHS=langgraph_store` the store is LangGraph's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp
from langgraph.store.postgres.aio import AsyncPostgresStore

from atrium.runtime.adapters import stock

# The vectors of the batch this task is running, by text (a context variable: batches run concurrently
# on one store).
_made: ContextVar[Mapping[str, list[float]] | None] = ContextVar("atrium_store_vectors", default=None)


class _Made(Embeddings):
    """The store's embeddings, answering from the vectors made for the current batch when it has them
    all (else, e.g. a library that asks for other texts, by calling the embeddings as the stock store
    does)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        made = _made.get()
        if made is not None and all(text in made for text in texts):
            return [made[text] for text in texts]
        return await self.inner.aembed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return await self.inner.aembed_query(text)


class _Store(AsyncPostgresStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.embeddings is not None:
            self.embeddings = _Made(self.embeddings)

    async def _embed_first(self, grouped_ops: dict[Any, Any]) -> Mapping[str, list[float]] | None:
        """The vectors the batch's puts and searches need, made before it holds a connection."""
        if not isinstance(self.embeddings, _Made):
            return None
        texts: list[str] = []
        if PutOp in grouped_ops:
            _, request = self._prepare_batch_PUT_queries(grouped_ops[PutOp])
            texts += [str(params[-1]) for params in request[1]] if request else []
        if SearchOp in grouped_ops:
            _, requests = self._prepare_batch_search_queries(grouped_ops[SearchOp])
            texts += [query for _, query in requests]
        if not texts:
            return None
        unique = list(dict.fromkeys(texts))
        vectors = await self.embeddings.inner.aembed_documents(unique)
        if len(vectors) != len(unique):
            return None  # embeddings that miscount: the library asks again and handles it as it does
        return dict(zip(unique, vectors, strict=True))

    async def _execute_batch(self, grouped_ops: dict[Any, Any], results: list[Any], conn: Any = None) -> None:
        made = await self._embed_first(grouped_ops)
        token = _made.set(made) if made is not None else None
        try:
            await self._execute_on_cursor(grouped_ops, results, conn)
        finally:
            if token is not None:
                _made.reset(token)

    async def _execute_on_cursor(self, grouped_ops: dict[Any, Any], results: list[Any], conn: Any) -> None:
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
