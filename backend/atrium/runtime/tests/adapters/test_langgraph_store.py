"""Adapter `langgraph_store` (atrium/runtime/adapters/langgraph_store.py): the AsyncPostgresStore
internals it relies on (contract), and the store working on the adapter's path and the stock one."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.test import override_settings
from langgraph.store.postgres.aio import AsyncPostgresStore
from psycopg_pool import AsyncConnectionPool

from atrium.runtime.adapters.langgraph_store import _Store, postgres_store
from atrium.runtime.db import CONNECTION_KWARGS, conninfo
from atrium.runtime.tests.adapters.contract import assert_signature, assert_source

ADAPTER = "langgraph_store"


def test_contract_the_stores_batch_internals_are_what_the_adapter_was_written_against() -> None:
    store = AsyncPostgresStore
    assert_source(ADAPTER, "AsyncPostgresStore._execute_batch", store._execute_batch, "c306f163be5e3cee")
    cursor = "'AsyncCursor[DictRow]'"
    for name, ops in [
        ("_batch_get_ops", "get_ops: 'Sequence[tuple[int, GetOp]]'"),
        ("_batch_search_ops", "search_ops: 'Sequence[tuple[int, SearchOp]]'"),
        ("_batch_list_namespaces_ops", "list_ops: 'Sequence[tuple[int, ListNamespacesOp]]'"),
    ]:
        expected = f"(self, {ops}, results: 'list[Result]', cur: {cursor}) -> 'None'"
        assert_signature(ADAPTER, f"AsyncPostgresStore.{name}", getattr(store, name), expected)
    assert_signature(
        ADAPTER,
        "AsyncPostgresStore._cursor",
        store._cursor,
        "(self, *, pipeline: 'bool' = False) -> 'AsyncIterator[AsyncCursor[DictRow]]'",
    )
    # The embeddings made first (`_Store._embed_first`): the texts the preparations ask for are the ones
    # the batch methods then embed, through `self.embeddings.aembed_documents`.
    for name, digest in [("_batch_put_ops", "72a8e56a9a23160d"), ("_batch_search_ops", "71c9fc1c1b2e070b")]:
        assert_source(ADAPTER, f"AsyncPostgresStore.{name}", getattr(store, name), digest)
    assert_signature(
        ADAPTER,
        "AsyncPostgresStore._prepare_batch_PUT_queries",
        store._prepare_batch_PUT_queries,
        "(self, put_ops: 'Sequence[tuple[int, PutOp]]') -> 'tuple[list[tuple[str, Sequence]], "
        "tuple[str, Sequence[tuple[str, str, str, str]]] | None]'",
    )
    assert_signature(
        ADAPTER,
        "AsyncPostgresStore._prepare_batch_search_queries",
        store._prepare_batch_search_queries,
        "(self, search_ops: 'Sequence[tuple[int, SearchOp]]') -> "
        "'tuple[list[tuple[str, list[None | str | list[float]]]], list[tuple[int, str]]]'",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stock", [False, True])
def test_the_store_writes_reads_searches_and_lists_on_both_paths(stock: bool) -> None:
    namespace = ("adapter-test", uuid.uuid4().hex)

    async def use_store() -> tuple[type, object, list[str], list[tuple[str, ...]]]:
        pool = AsyncConnectionPool(conninfo(), min_size=1, max_size=2, kwargs=CONNECTION_KWARGS, open=False)
        await pool.open()
        try:
            store = postgres_store(pool)
            await store.aput(namespace, "a", {"text": "first"})
            await store.aput(namespace, "b", {"text": "second"})
            item = await store.aget(namespace, "a")
            found = [i.key for i in await store.asearch(namespace, filter={"text": "second"})]
            spaces = await store.alist_namespaces(prefix=namespace)
            await store.adelete(namespace, "a")
            await store.adelete(namespace, "b")
            return type(store), item.value if item else None, found, spaces
        finally:
            await pool.close()

    with override_settings(ATRIUM_STOCK_LIBRARY_PATHS=frozenset({ADAPTER} if stock else set())):
        kind, value, found, spaces = asyncio.run(use_store())
    assert kind is (AsyncPostgresStore if stock else _Store)
    assert value == {"text": "first"}
    assert found == ["b"]
    assert spaces == [namespace]
