"""Checkpoint writes fenced by the run's lease: a worker that lost its run can no longer write its state.

A worker that is alive but was cut off (paused, partitioned, its event loop stalled) past its lease
keeps executing until its next heartbeat gets through, while another worker has resumed the run.
`run_finish` refuses a stale fence; this does the same for every checkpoint write. Each write
(`aput`, `aput_writes`) runs in one transaction that first takes a share lock on the run row, but
only while the row still carries the attempt's fence and is `running`. The sweeper and the claim
change the fence with an UPDATE of that row, which waits for the share lock: a write either commits
before the fence moves, or sees the new fence and writes nothing. So two attempts of a run never
both commit checkpoints after a takeover.

The saver is made per attempt (it knows its run and fence) and shares the process's pool and
serializer; reads are not fenced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from langgraph.checkpoint.postgres import _ainternal
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row

# Pipelined ahead of the writes in their transaction, so fencing costs no extra round trip: it fails
# the transaction (division by zero: no held row) instead of returning a row to look at. The share
# lock conflicts with the fence-changing UPDATE; a paused holder could keep it (and so stall the
# sweeper) forever, so the transaction ends itself if left idle.
_HOLD_FENCE = """
SELECT set_config('idle_in_transaction_session_timeout', '5s', true), 1 / (
    SELECT count(*) FROM (
        SELECT 1 FROM runtime_run
        WHERE id = %(run)s::uuid AND fence = %(fence)s AND status = 'running' FOR SHARE
    ) held
)::int
"""


class RunFencedError(RuntimeError):
    """This attempt no longer owns its run: another worker took it over, or it ended."""


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
        try:
            async with (
                self.lock,
                _ainternal.get_connection(self.conn) as conn,
                conn.pipeline(),
                conn.transaction(),
                conn.cursor(binary=True, row_factory=dict_row) as cur,
            ):
                await cur.execute(_HOLD_FENCE, {"run": self.run_id, "fence": self.fence})
                yield cur
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
