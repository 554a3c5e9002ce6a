"""Checkpoint writes fenced by the run's lease: a worker that lost its run can no longer write its state.

A worker that is alive but was cut off (paused, partitioned, its event loop stalled) past its lease
keeps executing until its next heartbeat gets through, while another worker has resumed the run.
`run_finish` refuses a stale fence; this does the same for every checkpoint write. Each write
(`aput`, `aput_writes`) first takes a share lock on the run row, but only while the row still carries
the attempt's fence and is `running`, in the same transaction as its inserts. The sweeper and the
claim change the fence with an UPDATE of that row, which waits for the share lock: a write either
commits before the fence moves, or sees the new fence and writes nothing. So two attempts of a run
never both commit checkpoints after a takeover.

Each write is one statement (one round trip, one implicit transaction, prepared once per pooled
connection): LangGraph's saver builds its rows as usual, against a cursor that only records them, and
the recorded INSERTs are sent as data-modifying CTEs over arrays, behind the fence check. With
`durability="sync"` a run makes two writes per step, so this is the worker's hottest statement: one
statement instead of a pipelined BEGIN, check, INSERTs and COMMIT halves what Postgres and the client
spend on it (docs/performance.md). A write the recorder does not recognise is replayed as it came, in
a fenced transaction, so a change in LangGraph's SQL costs speed, never correctness.

The saver is made per attempt (it knows its run and fence) and shares the process's pool and
serializer; reads are not fenced.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from langgraph.checkpoint.postgres import _ainternal
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row

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
    update_key: tuple[int, ...] | None  # the conflict key's positions, when a conflict updates the row


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
    return _Shape(match["table"], columns, column_types, match["conflict"], key if updates else None)


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
    """The recorded INSERTs as one fenced statement, or None if one of them is not recognised."""
    parts, params = [], [run_id, fence]
    for query, rows in calls:
        shape = _shape(query)
        if shape is None or any(len(row) != len(shape.columns) for row in rows):
            return None
        if shape.update_key is not None:
            # One statement may not update a row twice; executemany would have let the last row win.
            key = shape.update_key
            rows = list({tuple(row[i] for i in key): row for row in rows}.values())
        if rows:
            parts.append((shape, len(rows)))
            params += [value for row in rows for value in row]
    if len(params) > MAX_PARAMETERS:
        return None  # a very wide step (thousands of writes): its statements are sent as they came
    return _statement(tuple(parts)), params


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

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not pipeline:  # reads (and the saver's own setup) are not fenced
            async with super()._cursor(pipeline=False) as cur:
                yield cur
            return
        recorder = _Recorder()
        yield recorder  # type: ignore[misc]  # LangGraph's write blocks only execute on their cursor
        fence = {"run": self.run_id, "fence": self.fence}
        try:
            async with self.lock, _ainternal.get_connection(self.conn) as conn:
                statement = one_statement(recorder.calls, run_id=self.run_id, fence=self.fence)
                if statement is not None:
                    await conn.execute(*statement)  # type: ignore[arg-type]
                    return
                async with conn.transaction(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    await cur.execute(_HOLD_FENCE, fence)
                    for query, rows in recorder.calls:
                        await cur.executemany(query, rows)
        except psycopg.errors.DivisionByZero as exc:
            self.on_fenced()
            raise RunFencedError(f"run {self.run_id} is no longer held at fence {self.fence}") from exc


def caused_by(error: Any, kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    """Whether an attempt's error, or what caused it, is of `kind` (graphs wrap the errors they meet)."""
    seen = 0
    while isinstance(error, BaseException) and seen < 10:
        if isinstance(error, kind):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
