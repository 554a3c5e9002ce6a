"""Adapter `langgraph_checkpoint`: checkpoint writes fenced by the run's lease, in one statement per step.

A worker that lost its run can no longer write its state (atrium/runtime/fencing.py re-exports this).

A worker that is alive but was cut off (paused, partitioned, its event loop stalled) past its lease
keeps executing until its next heartbeat gets through, while another worker has resumed the run.
`lifecycle.finish` refuses a stale fence; this does the same for every checkpoint write. Each write
(`aput`, `aput_writes`) first takes a share lock on the run row, but only while the row still carries
the attempt's fence and is `running`, in the same transaction as its inserts. The sweeper and the
claim change the fence with an UPDATE of that row, which waits for the share lock: a write either
commits before the fence moves, or sees the new fence and writes nothing. So two attempts of a run
never both commit checkpoints after a takeover.

Each write is one statement (one round trip, one implicit transaction, prepared once per pooled
connection): LangGraph's saver builds its rows as usual, against a cursor that only records them, and
the recorded INSERTs are sent as data-modifying CTEs over scalar VALUES, behind the fence check. With
`durability="sync"` every step writes, so this is the worker's hottest statement: one statement
instead of a pipelined BEGIN, check, INSERTs and COMMIT halves what Postgres and the client spend on
it (docs/performance.md). A write the recorder does not recognise is replayed as it came, in
a fenced transaction, so a change in LangGraph's SQL costs speed, never correctness.

Writes that arrive together go out together. With `durability="sync"` a step's last task hands
LangGraph its writes (`aput_writes`) and, in the same turn of the event loop, the step's checkpoint
follows (`aput`): the first to be ready waits for the other writes already begun (serialising their
rows) and sends them all in one statement, so a step costs one round trip and one commit instead of
two. A write never waits for one that has not begun: the writes of a task that ends while others of its
step still run go out at once, as before, so a crash never costs a finished task's writes. All of a
batch commits or none of it, where a crash between two separate statements could leave one of them.

The saver is made per attempt (it knows its run and fence) and shares the process's pool and
serializer; reads are not fenced.

What it relies on in `AsyncPostgresSaver` (tests/adapters/test_langgraph_checkpoint.py holds each): that
every write goes through `_cursor(pipeline=True)` and only executes on its cursor; the text of its write
SQL and its tables' columns (parsed into one statement); `aput_writes` and `_dump_writes` (copied, to
build rows inline); `_ainternal.get_connection`. With `ATRIUM_STOCK_LIBRARY_PATHS=langgraph_checkpoint`
the saver keeps the fence (which the saver's public API cannot carry) through the one `_cursor` hook,
and nothing else: LangGraph's own `aput`/`aput_writes`, its statements sent as they came in a fenced
transaction, one write at a time (slower: a transaction of several round trips per write).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres import _ainternal
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from atrium.runtime.adapters import stock

# The fence check fails the statement (division by zero: no held row) instead of returning a row to
# look at, so it costs no extra round trip. The share lock conflicts with the fence-changing UPDATE.
_FENCE_CTE = """fence AS MATERIALIZED (
    SELECT 1 / count(*)::int AS held FROM (
        SELECT 1 FROM runtime_run
        WHERE id = %s::uuid AND fence = %s AND status = 'running' FOR SHARE
    ) held
)"""
# For a write that is not recognised: the same check ahead of its statements, in one transaction. A
# paused holder could keep the share lock (and so stall the sweeper) forever, so the transaction ends
# itself if left idle.
_HOLD_FENCE = """
SELECT set_config('idle_in_transaction_session_timeout', '5s', true), 1 / (
    SELECT count(*) FROM (
        SELECT 1 FROM runtime_run
        WHERE id = %(run)s::uuid AND fence = %(fence)s AND status = 'running' FOR SHARE
    ) held
)::int
"""
# LangGraph's checkpoint tables (langgraph.checkpoint.postgres.base.MIGRATIONS): the types their
# columns take as arrays.
_COLUMN_TYPES = {
    "checkpoints": {
        "thread_id": "text",
        "checkpoint_ns": "text",
        "checkpoint_id": "text",
        "parent_checkpoint_id": "text",
        "checkpoint": "jsonb",
        "metadata": "jsonb",
    },
    "checkpoint_blobs": {
        "thread_id": "text",
        "checkpoint_ns": "text",
        "channel": "text",
        "version": "text",
        "type": "text",
        "blob": "bytea",
    },
    "checkpoint_writes": {
        "thread_id": "text",
        "checkpoint_ns": "text",
        "checkpoint_id": "text",
        "task_id": "text",
        "task_path": "text",
        "idx": "int4",
        "channel": "text",
        "type": "text",
        "blob": "bytea",
    },
}
_INSERT = re.compile(
    r"^\s*INSERT INTO (?P<table>\w+) \((?P<columns>[\w, ]+)\)\s*VALUES \((?:%s, )*%s\)\s*"
    r"(?P<conflict>ON CONFLICT \((?P<key>[\w, ]+)\)\s+DO\s+(?:NOTHING|UPDATE\s+SET\s[\w\s=.,]+?));?\s*$",
    re.S,
)


class RunFencedError(RuntimeError):
    """This attempt no longer owns its run: another worker took it over, or it ended."""


@dataclass
class _Recorder:
    """Stands in for the cursor of one of LangGraph's write blocks: keeps what it was asked to run."""

    calls: list[tuple[str, list[Sequence[Any]]]] = field(default_factory=list)

    async def execute(self, query: str, params: Sequence[Any]) -> None:
        self.calls.append((query, [params]))

    async def executemany(self, query: str, params_seq: Sequence[Sequence[Any]]) -> None:
        self.calls.append((query, list(params_seq)))


# Postgres takes at most 65,535 parameters in one statement.
MAX_PARAMETERS = 30_000


@dataclass(frozen=True)
class _Shape:
    """A recognised INSERT of LangGraph's: where it writes, and how it resolves conflicts."""

    table: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    conflict: str
    key: tuple[int, ...]  # the conflict key's positions
    updates: bool  # whether a conflict updates the row (or leaves it)


@functools.lru_cache(maxsize=64)
def _shape(query: str) -> _Shape | None:
    match = _INSERT.match(query)
    types = _COLUMN_TYPES.get(match["table"]) if match else None
    if match is None or types is None:
        return None
    columns = tuple(c.strip() for c in match["columns"].split(","))
    if any(c not in types for c in columns):
        return None
    key = tuple(columns.index(c.strip()) for c in match["key"].split(","))
    updates = re.search(r"DO\s+UPDATE", match["conflict"]) is not None
    column_types = tuple(types[c] for c in columns)
    return _Shape(match["table"], columns, column_types, match["conflict"], key, updates)


@functools.lru_cache(maxsize=256)
def _statement(parts: tuple[tuple[_Shape, int], ...]) -> str:
    """The fenced statement for these INSERTs of so many rows each (its text is prepared, so it is
    built once per shape). Rows go in as typed scalar parameters: adapting scalars costs psycopg far
    less than adapting arrays."""
    ctes = [_FENCE_CTE]
    for n, (shape, count) in enumerate(parts):
        row = "(" + ", ".join(f"%s::{t}" for t in shape.types) + ")"
        names = ", ".join(shape.columns)
        # Identifiers only from the whitelist above and the matched conflict clause; values are parameters.
        insert = f"INSERT INTO {shape.table} ({names}) SELECT v.* FROM (VALUES {', '.join([row] * count)}) "  # noqa: S608
        ctes.append(f"w{n} AS ({insert}AS v({names}), fence WHERE fence.held = 1 {shape.conflict})")
    return "WITH " + ",\n".join(ctes) + "\nSELECT held FROM fence"


def one_statement(
    calls: list[tuple[str, list[Sequence[Any]]]], *, run_id: str, fence: int
) -> tuple[str, list[Any]] | None:
    """The recorded INSERTs as one fenced statement, or None if one of them is not recognised.

    One statement may not write a row twice, so the rows of each table are merged by their conflict
    key into what running the INSERTs in turn would have left: the last row where a conflict updates,
    the first where it does nothing."""
    merged: dict[_Shape, dict[tuple[Any, ...], Sequence[Any]]] = {}
    for query, rows in calls:
        shape = _shape(query)
        if shape is None or any(len(row) != len(shape.columns) for row in rows):
            return None
        kept = merged.setdefault(shape, {})
        for row in rows:
            key = tuple(row[i] for i in shape.key)
            if shape.updates or key not in kept:
                kept[key] = row
    tables: dict[str, set[tuple[Any, ...]]] = {}
    for shape, kept in merged.items():
        seen = tables.setdefault(shape.table, set())
        if not seen.isdisjoint(kept):
            return None  # one row written by two kinds of INSERT: they run in turn (rare)
        seen.update(kept)
    parts, params = [], [run_id, fence]
    for shape, kept in merged.items():
        if kept:
            parts.append((shape, len(kept)))
            params += [value for row in kept.values() for value in row]
    if len(params) > MAX_PARAMETERS:
        return None  # a very wide step (thousands of writes): its statements are sent as they came
    return _statement(tuple(parts)), params


Calls = list[tuple[str, list[Sequence[Any]]]]


@dataclass
class _Batch:
    """Writes that go out in one statement, and the outcome each of them waits for."""

    calls: Calls
    done: asyncio.Future[None]


# Set while one of this task's `aput`/`aput_writes` calls is under way: its write may join a batch.
_counted: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("fenced_write", default=None)


class FencedSaver(AsyncPostgresSaver):
    """The process's checkpointer, for one attempt of one run: writes only while the fence is ours."""

    def __init__(
        self, base: AsyncPostgresSaver, *, run_id: str, fence: int, on_fenced: Callable[[], None]
    ) -> None:
        self.__dict__.update(base.__dict__)  # the pool, serializer and capabilities of the shared saver
        self.lock = asyncio.Lock()
        self.run_id = run_id
        self.fence = fence
        self.on_fenced = on_fenced
        # Writes begun (building their rows) that have not yet joined a batch, and the batch forming.
        self.begun = 0
        self.joined = asyncio.Event()
        self.forming: _Batch | None = None
        self.statements = 0  # statements sent, for tests and profiling
        self.stock_path = stock("langgraph_checkpoint")

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        if self.stock_path:
            return await super().aput(config, checkpoint, metadata, new_versions)
        with self._counting():
            return await super().aput(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """LangGraph's `aput_writes`, with the rows built inline: a task's writes are small (the stock
        saver's hop to a thread for them cost more than building them, ~4 % of the worker)."""
        if self.stock_path:
            await super().aput_writes(config, writes, task_id, task_path)
            return
        with self._counting():
            query = (
                self.UPSERT_CHECKPOINT_WRITES_SQL
                if all(w[0] in WRITES_IDX_MAP for w in writes)
                else self.INSERT_CHECKPOINT_WRITES_SQL
            )
            configurable = config["configurable"]
            params = self._dump_writes(
                configurable["thread_id"],
                configurable["checkpoint_ns"],
                configurable["checkpoint_id"],
                task_id,
                task_path,
                writes,
            )
            async with self._cursor(pipeline=True) as cur:
                await cur.executemany(query, params)

    @contextlib.contextmanager
    def _counting(self) -> Iterator[None]:
        """Count a write as begun until it joins a batch (or fails before it could)."""
        pending = [True]
        token = _counted.set(pending)
        self.begun += 1
        try:
            yield
        finally:
            _counted.reset(token)
            if pending[0]:  # it never reached a batch
                pending[0] = False
                self._left()

    def _left(self) -> None:
        self.begun -= 1
        self.joined.set()

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not pipeline:  # reads (and the saver's own setup) are not fenced
            async with super()._cursor(pipeline=False) as cur:
                yield cur
            return
        recorder = _Recorder()
        yield recorder  # type: ignore[misc]  # LangGraph's write blocks only execute on their cursor
        pending = _counted.get()
        if pending is None or not pending[0]:
            await self._send(recorder.calls)  # a write of another kind (deletes, copies): on its own
            return
        pending[0] = False
        self._left()
        if self.forming is not None:
            self.forming.calls.extend(recorder.calls)
            await asyncio.shield(self.forming.done)
            return
        batch = self.forming = _Batch(recorder.calls, asyncio.get_running_loop().create_future())
        try:
            await asyncio.sleep(0)  # a write scheduled in this same turn of the loop begins
            while self.begun > 0:  # writes begun are building their rows: they join in a moment
                self.joined.clear()
                await self.joined.wait()
            self.forming = None
            await self._send(batch.calls)
        except BaseException as exc:
            if self.forming is batch:
                self.forming = None
            if isinstance(exc, asyncio.CancelledError):
                batch.done.cancel()
            else:
                batch.done.set_exception(exc)
                batch.done.exception()  # the joined writes see it; no "never retrieved" warning here
            raise
        batch.done.set_result(None)

    async def _send(self, calls: Calls) -> None:
        fence = {"run": self.run_id, "fence": self.fence}
        try:
            async with self.lock, self._connection() as conn:
                self.statements += 1
                statement = (
                    None if self.stock_path else one_statement(calls, run_id=self.run_id, fence=self.fence)
                )
                if statement is not None:
                    await conn.execute(*statement)  # type: ignore[arg-type]
                    return
                async with conn.transaction(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    await cur.execute(_HOLD_FENCE, fence)
                    for query, rows in calls:
                        await cur.executemany(query, rows)
        except psycopg.errors.DivisionByZero as exc:
            self.on_fenced()
            raise RunFencedError(f"run {self.run_id} is no longer held at fence {self.fence}") from exc

    def _connection(self) -> contextlib.AbstractAsyncContextManager[Any]:
        if not self.stock_path:
            return _ainternal.get_connection(self.conn)
        # psycopg's public API for what `_ainternal.get_connection` does: a pool lends a connection.
        if isinstance(self.conn, AsyncConnectionPool):
            return self.conn.connection()
        return contextlib.nullcontext(self.conn)
