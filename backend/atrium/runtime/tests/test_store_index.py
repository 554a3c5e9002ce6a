"""`store.index` of a langgraph.json: what is accepted, how `embed` is resolved, and how a database that
cannot hold the vectors is reported (semantic search through a real stack:
`conformance/test_project_memory_agent.py`)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from langgraph.store.postgres.aio import AsyncPostgresStore
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from atrium.runtime import store_index
from atrium.runtime.adapters.langgraph_store import postgres_store
from atrium.runtime.db import CONNECTION_KWARGS, conninfo
from atrium.runtime.engine.project import ProjectConfigError, StoreIndex, parse_store_index
from atrium.runtime.store_index import (
    DeferredEmbeddings,
    EmbeddingsUnavailableError,
    StoreIndexSetupError,
    ensure_vector_tables,
    make_embeddings,
)


def _index(**given: Any) -> StoreIndex | None:
    return parse_store_index({"store": {"index": given}})


async def _vector_dims(conn: AsyncConnection[Any]) -> int | None:
    """The dimensions of the shared test database's vectors, if it has any: other tests pick theirs."""
    found = await (
        await conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass('store_vectors')"
            " AND attname = 'embedding'"
        )
    ).fetchone()
    return None if found is None else int(found["atttypmod"])  # type: ignore[call-overload]


async def _drop_vector_tables(conn: AsyncConnection[Any]) -> None:
    """Leave the shared test database as a test that found no vectors found it."""
    await conn.execute("DROP TABLE IF EXISTS store_vectors")
    await conn.execute("DELETE FROM vector_migrations")


def _zeros_index(dims: int) -> Any:
    return {"dims": dims, "embed": lambda texts: [[0.0] * dims] * len(texts)}


def test_the_template_settings_are_read() -> None:
    found = _index(dims=1536, embed="openai:text-embedding-3-small")
    assert found == StoreIndex(dims=1536, embed="openai:text-embedding-3-small", fields=("$",))
    assert found is not None
    assert found.embed_is_provider
    assert parse_store_index({"store": {"ttl": {"default_ttl": 5}}}) is None
    assert parse_store_index({}) is None
    with_fields = _index(dims=8, embed="./embed.py:embed", fields=["text", "tags[*]"], distance_type="l2")
    assert with_fields is not None
    assert not with_fields.embed_is_provider
    assert with_fields.fields == ("text", "tags[*]")
    assert with_fields.distance_type == "l2"
    assert _index(dims=8, embed="my_package.embeddings:embed").embed_is_provider is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("given", "names"),
    [
        ({"dims": "1536", "embed": "openai:x"}, "store.index.dims"),
        ({"dims": 0, "embed": "openai:x"}, "store.index.dims"),
        ({"dims": True, "embed": "openai:x"}, "store.index.dims"),
        ({"dims": 4096, "embed": "openai:x"}, "store.index.dims"),
        ({"dims": 8}, "store.index.embed"),
        ({"dims": 8, "embed": "openai"}, "store.index.embed"),
        ({"dims": 8, "embed": "openai:x", "fields": "text"}, "store.index.fields"),
        ({"dims": 8, "embed": "openai:x", "fields": []}, "store.index.fields"),
        ({"dims": 8, "embed": "openai:x", "distance_type": "manhattan"}, "store.index.distance_type"),
    ],
)
def test_a_setting_the_server_would_refuse_names_its_key(given: dict[str, Any], names: str) -> None:
    with pytest.raises(ProjectConfigError, match=names.replace(".", r"\.")):
        _index(**given)


def test_embed_as_a_path_to_the_projects_function(tmp_path: Path) -> None:
    (tmp_path / "embed.py").write_text(
        "def embed(texts):\n    return [[float(len(t)), 1.0] for t in texts]\n"
    )
    embeddings = make_embeddings(StoreIndex(dims=2, embed="./embed.py:embed"), tmp_path)
    assert embeddings.embed_documents(["abc", "a"]) == [[3.0, 1.0], [1.0, 1.0]]


def test_failing_embeddings_are_a_503_that_quotes_nothing_of_the_provider(tmp_path: Path) -> None:
    (tmp_path / "embed.py").write_text(
        "async def embed(texts):\n    raise RuntimeError('401 for key sk-live-secret-123')\n"
    )
    index = StoreIndex(dims=2, embed="./embed.py:embed")
    deferred = DeferredEmbeddings(index, lambda: make_embeddings(index, tmp_path))
    with pytest.raises(EmbeddingsUnavailableError) as raised:
        asyncio.run(deferred.aembed_documents(["hi"]))
    assert raised.value.status_code == 503
    assert "sk-live" not in str(raised.value)
    assert "store.index" in str(raised.value)
    missing = StoreIndex(dims=2, embed="./nowhere.py:embed")
    with pytest.raises(EmbeddingsUnavailableError, match="ValueError"):
        DeferredEmbeddings(missing, lambda: make_embeddings(missing, tmp_path)).embed_query("hi")


@pytest.mark.django_db(transaction=True)
async def test_vectors_of_other_dimensions_stop_the_start_up_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with await AsyncConnection.connect(conninfo(), **CONNECTION_KWARGS) as conn:
        found = await _vector_dims(conn)
        dims = found or 8
        index = _zeros_index
        try:
            await ensure_vector_tables(AsyncPostgresStore(conn, index=index(dims)), conn)  # idempotent
            await ensure_vector_tables(AsyncPostgresStore(conn, index=index(dims)), conn)
            with pytest.raises(
                StoreIndexSetupError, match=rf"dims is {dims + 1} but the store's vectors have {dims}"
            ):
                await ensure_vector_tables(AsyncPostgresStore(conn, index=index(dims + 1)), conn)
            # A worker checks at start-up, and stops rather than take runs it could not run.
            monkeypatch.setattr(store_index, "index_config", lambda: index(dims + 1))
            with pytest.raises(SystemExit):
                await asyncio.to_thread(store_index.check_at_start)
        finally:
            if found is None:
                await _drop_vector_tables(conn)


@pytest.mark.django_db(transaction=True)
async def test_a_process_waiting_for_the_set_up_holds_no_transaction_that_an_index_build_waits_for() -> None:
    # given: another process holds the set-up lock, as one setting the vector tables up does
    async with (
        await AsyncConnection.connect(conninfo(), **CONNECTION_KWARGS) as holder,
        await AsyncConnection.connect(conninfo(), **CONNECTION_KWARGS) as waiter,
        await AsyncConnection.connect(conninfo(), **CONNECTION_KWARGS) as builder,
    ):
        found = await _vector_dims(builder)
        await holder.execute("SELECT pg_advisory_lock(%s)", (store_index.SETUP_LOCK_KEY,))
        await builder.execute("CREATE TABLE IF NOT EXISTS setup_lock_probe (id int)")
        store = AsyncPostgresStore(waiter, index=_zeros_index(found or 8))
        waiting = asyncio.create_task(ensure_vector_tables(store, waiter))
        try:
            await asyncio.sleep(0.3)
            assert not waiting.done()  # it waits its turn

            # when: the holder's set-up builds an index concurrently, which waits for every
            # transaction in progress (a waiter blocked in pg_advisory_lock was one: a deadlock)
            build = builder.execute(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS setup_lock_probe_id ON setup_lock_probe (id)"
            )

            # then: the build finishes while the other process still waits
            await asyncio.wait_for(build, timeout=30)
            assert not waiting.done()
        finally:
            await holder.execute("SELECT pg_advisory_unlock(%s)", (store_index.SETUP_LOCK_KEY,))
            await asyncio.wait_for(waiting, timeout=30)
            await builder.execute("DROP TABLE IF EXISTS setup_lock_probe")
            if found is None:
                await _drop_vector_tables(builder)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stock", [False, True])
async def test_embeddings_are_made_before_the_store_takes_a_connection(stock: bool) -> None:
    # given: a pool of one connection, and embeddings that look at it while a provider would be working
    pool = AsyncConnectionPool(conninfo(), min_size=1, max_size=1, kwargs=CONNECTION_KWARGS, open=False)
    await pool.open(wait=True)
    setup = await AsyncConnection.connect(conninfo(), **CONNECTION_KWARGS)
    try:
        found = await _vector_dims(setup)
        dims = found or 8
        idle_while_embedding: list[int] = []

        def embed(texts: list[str]) -> list[list[float]]:
            idle_while_embedding.append(pool.get_stats()["pool_available"])
            return [[float(len(text))] + [0.0] * (dims - 1) for text in texts]

        with override_settings(ATRIUM_STOCK_LIBRARY_PATHS=frozenset({"langgraph_store"} if stock else set())):
            store = postgres_store(pool, index={"dims": dims, "embed": embed, "fields": ["text"]})
        await ensure_vector_tables(store, setup)  # the store's own set-up takes the pool's connection
        namespace = ("embedding-test", uuid.uuid4().hex)

        # when: an item is written and searched by meaning
        await store.aput(namespace, "a", {"text": "hello"})
        hits = await store.asearch(namespace, query="hello")
        await store.adelete(namespace, "a")

        # then: both work, and (off the stock path) the one connection was idle during both embeddings
        assert [hit.key for hit in hits] == ["a"]
        assert len(idle_while_embedding) == 2
        assert idle_while_embedding == ([0, 0] if stock else [1, 1])
    finally:
        if found is None:
            await _drop_vector_tables(setup)
        await setup.close()
        await pool.close()
