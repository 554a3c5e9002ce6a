"""Checkpoint writes hold the attempt's fence (fencing.py): refused once the run is taken over, and the
fence cannot move while a write is in flight."""

from __future__ import annotations

import asyncio
import operator
import uuid
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from psycopg_pool import AsyncConnectionPool

from atrium.runtime.db import CONNECTION_KWARGS, conninfo
from atrium.runtime.fencing import FencedSaver, RunFencedError, caused_by
from atrium.runtime.models import Run, RunStatus, Thread

_BUMP = "UPDATE runtime_run SET fence = fence + 1 WHERE id = %s"


class _State(TypedDict):
    trace: Annotated[list[str], operator.add]


def _graph(saver: AsyncPostgresSaver) -> Any:
    builder = StateGraph(_State)
    builder.add_node("a", lambda state: {"trace": ["a"]})
    builder.add_node("b", lambda state: {"trace": ["b"]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=saver)


def _running_run(org: Any) -> tuple[Thread, Run]:
    thread = Thread.unscoped.create(org=org)
    run = Run.unscoped.create(
        org=org, thread=thread, assistant_id=uuid.uuid4(), status=RunStatus.RUNNING, fence=1
    )
    return thread, run


async def _checkpoint_count(pool: AsyncConnectionPool[Any], thread_id: str) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) AS n FROM checkpoints WHERE thread_id = %s", (thread_id,))
        row = await cur.fetchone()
        assert row is not None
        return int(row["n"])


@pytest.mark.django_db(transaction=True)
def test_checkpoint_writes_are_refused_once_the_fence_moves(org: Any) -> None:
    thread, run = _running_run(org)
    config = {"configurable": {"thread_id": str(thread.id)}}

    async def scenario() -> tuple[list[str], int, int, list[str], BaseException | None]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo(), kwargs=CONNECTION_KWARGS, open=False)
        await pool.open()
        try:
            stops: list[str] = []
            saver = FencedSaver(
                AsyncPostgresSaver(pool), run_id=str(run.id), fence=1, on_fenced=lambda: stops.append("x")
            )
            # given an attempt that holds the fence: its checkpoints are written
            result = await _graph(saver).ainvoke({"trace": []}, config)
            written = await _checkpoint_count(pool, str(thread.id))
            # when another worker takes the run over (the sweeper bumps the fence)
            async with pool.connection() as conn:
                await conn.execute(_BUMP, (run.id,))
            # then the old attempt's next checkpoint write is refused, and nothing is written
            error: BaseException | None = None
            try:
                await _graph(saver).ainvoke({"trace": []}, config)
            except Exception as exc:
                error = exc
            return result["trace"], written, await _checkpoint_count(pool, str(thread.id)), stops, error
        finally:
            await pool.close()

    trace, written, after, stops, error = asyncio.run(scenario())
    assert trace == ["a", "b"]
    assert written == 4  # input, a, b ... and the graph's first (empty) checkpoint
    assert after == written
    assert stops != []  # the attempt was told to stop (once per refused write)
    assert isinstance(error, RunFencedError)
    assert caused_by(error, RunFencedError)


@pytest.mark.django_db(transaction=True)
def test_the_fence_cannot_move_while_a_checkpoint_write_is_in_flight(org: Any) -> None:
    _, run = _running_run(org)

    async def scenario() -> str:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo(), kwargs=CONNECTION_KWARGS, open=False)
        await pool.open()
        try:
            saver = FencedSaver(AsyncPostgresSaver(pool), run_id=str(run.id), fence=1, on_fenced=lambda: None)
            # given a checkpoint write in flight (its transaction open)
            # when the sweeper tries to move the fence meanwhile, it has to wait for the write
            async with (
                saver._cursor(pipeline=True) as cur,
                await psycopg.AsyncConnection.connect(conninfo(), autocommit=True) as other,
            ):
                await cur.execute("SELECT 1")
                await cur.fetchone()  # the pipeline is sent: the write holds the fence now
                await other.execute("SET lock_timeout = '200ms'")
                try:
                    await other.execute(_BUMP, (run.id,))
                except psycopg.errors.LockNotAvailable:
                    return "waited"
                return "moved"
        finally:
            await pool.close()

    assert asyncio.run(scenario()) == "waited"
    run.refresh_from_db()
    assert run.fence == 1
