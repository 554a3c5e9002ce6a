"""Semantic search over the store: the project's ``store.index`` (ADR 0022).

Items are embedded when they are written (by whichever process writes them: the worker for a graph's
``store.aput``, the web for the API's ``PUT /store/items``), on that process's event loop through the
embeddings' async client, and kept by LangGraph's store in its ``store_vectors`` table (pgvector). A
search with a ``query`` embeds the query the same way and ranks by the configured distance; the
namespace prefixes ``TenantStore`` puts on every search keep it inside the caller's org and user.

The embeddings are made at their first use, not at start-up: a provider that needs a key the process
lacks fails the searches and writes that embed, with a message naming ``store.index``, not every run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from langchain_core.embeddings import Embeddings
from langgraph.store.base.embed import ensure_embeddings
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.postgres.base import PostgresIndexConfig

from atrium.assistants.graphs import project_store_index, registry
from atrium.core.errors import ServiceUnavailableError
from atrium.runtime.engine import GraphLoadError, import_variable
from atrium.runtime.engine.project import StoreIndex

# Serialises the vector tables' set-up between the processes that start at once (web, workers).
SETUP_LOCK_KEY = 0x5A7E_1DE5
SETUP_LOCK_POLL_SECONDS = 0.1


class EmbeddingsUnavailableError(ServiceUnavailableError):
    """The project's embeddings could not be made or did not answer; nothing was written."""

    code = "embeddings_unavailable"


class StoreIndexSetupError(ServiceUnavailableError):
    """The database cannot hold the project's vectors (no pgvector, or vectors of other dimensions):
    a deployment to fix, so the API answers 503 with the reason and a worker refuses to start."""

    code = "store_index_unavailable"


class DeferredEmbeddings(Embeddings):
    """Embeddings made at first use; any failure of theirs is an `EmbeddingsUnavailableError`."""

    def __init__(self, index: StoreIndex, make: Callable[[], Embeddings]) -> None:
        self._index = index
        self._make = make
        self._made: Embeddings | None = None
        self._lock = threading.Lock()

    def _embeddings(self) -> Embeddings:
        with self._lock:
            if self._made is None:
                try:
                    self._made = self._make()
                except Exception as exc:
                    raise self._error(exc) from exc
            return self._made

    def _error(self, exc: BaseException) -> EmbeddingsUnavailableError:
        # The exception's type, not its text: a provider's message may quote a key or a URL with one.
        return EmbeddingsUnavailableError(
            f"store.index: the embeddings {self._index.embed!r} failed ({type(exc).__name__})."
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        try:
            return self._embeddings().embed_documents(texts)
        except EmbeddingsUnavailableError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        try:
            return await self._embeddings().aembed_documents(texts)
        except EmbeddingsUnavailableError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([text]))[0]


def make_embeddings(index: StoreIndex, base_dir: Path) -> Embeddings:
    """The embeddings ``store.index.embed`` names: a provider's (LangChain's ``init_embeddings``), or
    the project's function (sync or async, texts in, vectors out) or ``Embeddings`` object."""
    if index.embed_is_provider:
        from langchain.embeddings import init_embeddings

        return init_embeddings(index.embed)
    try:
        found = import_variable(index.embed, base_dir, what="store.index.embed")
    except GraphLoadError as exc:
        raise ValueError(str(exc)) from exc
    return ensure_embeddings(found)


@lru_cache(maxsize=1)
def index_config() -> PostgresIndexConfig | None:
    """LangGraph's index configuration for the project's ``store.index``; None without one."""
    index = project_store_index()
    if index is None:
        return None
    config: PostgresIndexConfig = {
        "dims": index.dims,
        "embed": DeferredEmbeddings(index, lambda: make_embeddings(index, registry().base_dir)),
        "fields": list(index.fields),
    }
    config["distance_type"] = index.distance_type  # type: ignore[typeddict-item]  # checked by the parser
    return config


async def _try_setup_lock(conn: Any) -> bool:
    row = await (await conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (SETUP_LOCK_KEY,))).fetchone()
    return bool(row["taken"])


async def ensure_vector_tables(store: AsyncPostgresStore, conn: Any) -> None:
    """Create the vector tables for the configured index (LangGraph's own set-up, idempotent), once
    at a time across processes, and check they hold vectors of the configured dimensions."""
    index: Any = store.index_config
    if not index:
        return
    # Polled, not waited for: LangGraph's set-up builds its vector index concurrently, which waits
    # for every transaction in progress, and a process blocked in `pg_advisory_lock` is one (a web and
    # a worker process starting together deadlocked that way). Each try ends at once (autocommit).
    while not await _try_setup_lock(conn):  # noqa: ASYNC110 (the lock is another process's: polled)
        await asyncio.sleep(SETUP_LOCK_POLL_SECONDS)
    try:
        await store.setup()
    except psycopg.errors.FeatureNotSupported as exc:  # pragma: no cover - depends on the server
        raise StoreIndexSetupError(f"store.index: {exc}") from exc
    except psycopg.errors.UndefinedFile as exc:
        raise StoreIndexSetupError(
            "store.index needs PostgreSQL's pgvector extension, which this server does not have "
            "(see docs/adr/0022-semantic-store-search-on-pgvector.md)."
        ) from exc
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))
    row = await (
        await conn.execute(
            "SELECT atttypmod FROM pg_attribute"
            " WHERE attrelid = 'store_vectors'::regclass AND attname = 'embedding'"
        )
    ).fetchone()
    found = row["atttypmod"] if row else None
    if found is not None and found != index["dims"]:
        raise StoreIndexSetupError(
            f"store.index.dims is {index['dims']} but the store's vectors have {found} dimensions: "
            "re-embedding is needed (docs/runbooks/store-index.md)."
        )


def check_at_start() -> None:
    """A worker that cannot hold the project's vectors must not take runs (they would wait for ever
    behind a store that cannot open): set the tables up now, or stop the process with the reason."""
    if index_config() is None:
        return
    import logging

    from psycopg import AsyncConnection

    from atrium.runtime.adapters.langgraph_store import postgres_store
    from atrium.runtime.db import CONNECTION_KWARGS, conninfo

    async def check() -> None:
        async with await AsyncConnection.connect(conninfo(), **CONNECTION_KWARGS) as conn:
            await ensure_vector_tables(postgres_store(conn, index=index_config()), conn)

    try:
        asyncio.run(check())
    except StoreIndexSetupError as exc:
        logging.getLogger(__name__).critical("%s The worker stops.", exc.message)
        raise SystemExit(3) from exc
