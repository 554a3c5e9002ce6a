"""Adapter `langgraph_checkpoint` (atrium/runtime/adapters/langgraph_checkpoint.py): the AsyncPostgresSaver
internals the fenced saver relies on (contract), and on the stock path a graph's checkpoints still
written, still fenced, with LangGraph's own statements (its behaviour on the adapter's path:
tests/services/test_fencing.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from langgraph.checkpoint.postgres import _ainternal, base
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from atrium.runtime.adapters.langgraph_checkpoint import _COLUMN_TYPES, FencedSaver, RunFencedError, _shape
from atrium.runtime.fencing import caused_by
from atrium.runtime.tests.adapters.contract import assert_signature, assert_source, broken
from atrium.runtime.tests.services.test_fencing import (
    _BUMP,
    _checkpoint_count,
    _graph,
    _open_pool,
    _running_run,
)

ADAPTER = "langgraph_checkpoint"


def test_contract_the_savers_write_path_is_what_the_adapter_was_written_against() -> None:
    saver = AsyncPostgresSaver
    assert_source(ADAPTER, "AsyncPostgresSaver.aput_writes (copied)", saver.aput_writes, "09582efe3f5dfbdf")
    assert_source(ADAPTER, "AsyncPostgresSaver.aput (writes on _cursor)", saver.aput, "52be1e07844ff036")
    assert_source(ADAPTER, "AsyncPostgresSaver._cursor (the fence's hook)", saver._cursor, "a52bb35676b8f05c")
    assert_source(ADAPTER, "_ainternal.get_connection", _ainternal.get_connection, "fe3a067ab7af58a6")
    assert_source(
        ADAPTER, "BasePostgresSaver._dump_writes", base.BasePostgresSaver._dump_writes, "42d8aae4c9a954a2"
    )
    assert_signature(
        ADAPTER,
        "AsyncPostgresSaver._cursor",
        saver._cursor,
        "(self, *, pipeline: 'bool' = False) -> 'AsyncIterator[AsyncCursor[DictRow]]'",
    )


def test_contract_every_write_statement_of_langgraphs_is_recognised() -> None:
    # Unrecognised, a write still runs fenced (replayed as it came), but each costs a transaction.
    for name, width in [
        ("UPSERT_CHECKPOINT_BLOBS_SQL", 6),
        ("UPSERT_CHECKPOINTS_SQL", 6),
        ("UPSERT_CHECKPOINT_WRITES_SQL", 9),
        ("INSERT_CHECKPOINT_WRITES_SQL", 9),
    ]:
        query = getattr(base, name, None)
        assert isinstance(query, str), broken(ADAPTER, name, "it is gone")
        shape = _shape(query)
        assert shape is not None, broken(ADAPTER, name, "its SQL is no longer the INSERT the adapter parses")
        assert len(shape.columns) == width, broken(
            ADAPTER, name, f"{len(shape.columns)} columns, not {width}"
        )


@pytest.mark.django_db
def test_contract_the_checkpoint_tables_have_the_columns_the_adapter_types() -> None:
    # The one statement casts each value to its column's type, as the adapter lists them.
    with connection.cursor() as cursor:
        for table, columns in _COLUMN_TYPES.items():
            cursor.execute(
                "SELECT column_name, udt_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                [table],
            )
            found = dict(cursor.fetchall())
            for column, kind in columns.items():
                assert found.get(column) == kind, broken(
                    ADAPTER, f"table {table}", f"{column} is {found.get(column)}"
                )


@pytest.mark.django_db(transaction=True)
def test_on_the_stock_path_checkpoints_are_written_by_langgraphs_statements_and_still_fenced(
    org: Any,
) -> None:
    thread, run = _running_run(org)
    config = {"configurable": {"thread_id": str(thread.id)}}

    async def scenario() -> tuple[list[str], int, int, int, BaseException | None]:
        pool = await _open_pool()
        try:
            saver = FencedSaver(AsyncPostgresSaver(pool), run_id=str(run.id), fence=1, on_fenced=lambda: None)
            # given an attempt holding the fence: its graph runs and its checkpoints are written
            result = await _graph(saver).ainvoke({"trace": []}, config, durability="sync")
            written, statements = await _checkpoint_count(pool, str(thread.id)), saver.statements
            # when the run is taken over
            async with pool.connection() as conn:
                await conn.execute(_BUMP, (run.id,))
            # then its next write is refused and nothing more is written
            error = None
            try:
                await _graph(saver).ainvoke({"trace": []}, config, durability="sync")
            except Exception as exc:
                error = exc
            return result["trace"], written, statements, await _checkpoint_count(pool, str(thread.id)), error
        finally:
            await pool.close()

    with override_settings(ATRIUM_STOCK_LIBRARY_PATHS=frozenset({ADAPTER})):
        trace, written, statements, after, error = asyncio.run(scenario())
    assert trace == ["a", "b"]
    assert written == 4
    assert statements == 7  # four checkpoints and three tasks' writes, each on its own (not batched)
    assert after == written
    assert caused_by(error, RunFencedError)
