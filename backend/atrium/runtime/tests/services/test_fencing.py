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
from atrium.runtime.fencing import MAX_PARAMETERS, FencedSaver, RunFencedError, caused_by, one_statement
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


def _in_flight_write(org: Any, *, mover_commits: bool) -> str:
    """A checkpoint write that arrives while another worker's fence move is not committed yet."""
    thread, run = _running_run(org)
    config = {"configurable": {"thread_id": str(thread.id)}}

    async def scenario() -> str:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo(), kwargs=CONNECTION_KWARGS, open=False)
        await pool.open()
        try:
            saver = FencedSaver(AsyncPostgresSaver(pool), run_id=str(run.id), fence=1, on_fenced=lambda: None)
            async with await psycopg.AsyncConnection.connect(conninfo()) as mover:
                await mover.execute(_BUMP, (run.id,))  # the sweeper's UPDATE, its transaction open
                write = asyncio.ensure_future(_graph(saver).ainvoke({"trace": []}, config))
                await asyncio.sleep(0.3)
                blocked = not write.done()  # the write waits for the fence's row
                await (mover.commit() if mover_commits else mover.rollback())
                try:
                    await write
                except RunFencedError:
                    return "blocked, then refused" if blocked else "refused"
                return "blocked, then written" if blocked else "written"
        finally:
            await pool.close()

    return asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_a_write_waits_for_a_fence_move_in_flight_and_is_refused_once_it_commits(org: Any) -> None:
    assert _in_flight_write(org, mover_commits=True) == "blocked, then refused"


@pytest.mark.django_db(transaction=True)
def test_a_write_goes_through_when_the_fence_move_is_rolled_back(org: Any) -> None:
    assert _in_flight_write(org, mover_commits=False) == "blocked, then written"


class _Wide(TypedDict):
    trace: Annotated[list[str], operator.add]
    notes: dict[str, Any]
    answer: str


def _wide_graph(saver: AsyncPostgresSaver) -> Any:
    """Blobs (a list and a dict channel), a fan-out step (two tasks' writes), an interrupt (the
    special writes LangGraph upserts) and a resume."""
    from langgraph.types import interrupt

    builder = StateGraph(_Wide)
    builder.add_node("left", lambda state: {"trace": ["left"], "notes": {"left": [1, 2]}})
    builder.add_node("right", lambda state: {"trace": ["right"]})
    builder.add_node("ask", lambda state: {"answer": interrupt("name?"), "trace": ["ask"]})
    builder.add_edge(START, "left")
    builder.add_edge(START, "right")
    builder.add_edge(["left", "right"], "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


_ROWS = {
    "checkpoint_blobs": "SELECT checkpoint_ns, channel, split_part(version, '.', 1) AS version, type, blob "
    "FROM checkpoint_blobs WHERE thread_id = %s",
    # An interrupt's id derives from its task's id, which derives from the (time-ordered) checkpoint id.
    "checkpoint_writes": "SELECT checkpoint_ns, task_path, idx, channel, type, "
    "CASE WHEN channel = '__interrupt__' THEN NULL ELSE blob END AS blob FROM checkpoint_writes "
    "WHERE thread_id = %s",
    "checkpoints": "SELECT checkpoint_ns, parent_checkpoint_id IS NULL AS root, "
    "metadata - 'thread_id' AS metadata, checkpoint->'channel_values' AS channel_values "
    "FROM checkpoints WHERE thread_id = %s",
}


@pytest.mark.parametrize("durability", ["sync", "async"])
@pytest.mark.django_db(transaction=True)
def test_fenced_writes_store_exactly_what_the_stock_saver_stores(org: Any, durability: str) -> None:
    """Writes merged into one statement must leave the same rows as LangGraph's own statements (ids
    aside), whether a step's writes join its checkpoint (`sync`) or the checkpoints trail (`async`)."""
    from langgraph.types import Command

    thread, run = _running_run(org)
    stock_thread = str(uuid.uuid4())

    async def rows(pool: AsyncConnectionPool[Any], thread_id: str) -> dict[str, list[str]]:
        out = {}
        async with pool.connection() as conn:
            for table, query in _ROWS.items():
                cur = await conn.execute(query, (thread_id,))
                out[table] = sorted(repr(sorted(row.items())) for row in await cur.fetchall())
        return out

    async def scenario() -> tuple[dict[str, list[str]], dict[str, list[str]], Any, Any]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo(), kwargs=CONNECTION_KWARGS, open=False)
        await pool.open()
        try:
            stock = AsyncPostgresSaver(pool)
            fenced = FencedSaver(stock, run_id=str(run.id), fence=1, on_fenced=lambda: None)
            results = []
            for saver, thread_id in ((stock, stock_thread), (fenced, str(thread.id))):
                config = {"configurable": {"thread_id": thread_id}}
                graph = _wide_graph(saver)
                await graph.ainvoke({"trace": [], "notes": {}, "answer": ""}, config, durability=durability)
                results.append(await graph.ainvoke(Command(resume="ada"), config, durability=durability))
            return await rows(pool, stock_thread), await rows(pool, str(thread.id)), *results
        finally:
            await pool.close()

    stock_rows, fenced_rows, stock_result, fenced_result = asyncio.run(scenario())
    assert fenced_result == stock_result
    assert fenced_result["answer"] == "ada"
    assert {table: len(found) for table, found in fenced_rows.items()} == {
        table: len(found) for table, found in stock_rows.items()
    }
    assert fenced_rows["checkpoint_blobs"] == stock_rows["checkpoint_blobs"]
    assert fenced_rows["checkpoint_writes"] == stock_rows["checkpoint_writes"]
    assert fenced_rows["checkpoints"] == stock_rows["checkpoints"]
    assert len(fenced_rows["checkpoint_writes"]) > 0


def _merged(calls: list[tuple[str, list[Any]]]) -> Any:
    return one_statement(calls, run_id=str(uuid.uuid4()), fence=1)


def test_langgraphs_write_statements_are_all_merged() -> None:
    """If LangGraph changes its SQL, writes still work (replayed as they come) but lose the fast path."""
    from langgraph.checkpoint.postgres import base

    for query, width in (
        (base.UPSERT_CHECKPOINT_BLOBS_SQL, 6),
        (base.UPSERT_CHECKPOINTS_SQL, 6),
        (base.UPSERT_CHECKPOINT_WRITES_SQL, 9),
        (base.INSERT_CHECKPOINT_WRITES_SQL, 9),
    ):
        assert _merged([(query, [tuple(range(width))])]) is not None, query


def test_a_write_the_recorder_does_not_know_is_not_merged() -> None:
    known = (
        "INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING"
    )
    row = ("t", "", "c", "1", "json", b"x")
    assert _merged([(known, [row])]) is not None
    assert _merged([("DELETE FROM checkpoints WHERE thread_id = %s", [("t",)])]) is None
    assert _merged([(known.replace("blob)", "blob, extra)"), [(*row, 1)])]) is None  # unknown column
    assert _merged([(known.replace("checkpoint_blobs", "other_table"), [row])]) is None
    assert _merged([(known, [row[:-1]])]) is None  # a row that does not fit the columns
    too_many = [(*row[:3], str(n), *row[4:]) for n in range(MAX_PARAMETERS // len(row) + 1)]
    assert _merged([(known, too_many)]) is None  # too many for one statement


@pytest.mark.django_db(transaction=True)
def test_a_write_the_recorder_does_not_know_still_runs_fenced(org: Any) -> None:
    thread, run = _running_run(org)

    async def scenario() -> tuple[int, BaseException | None]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo(), kwargs=CONNECTION_KWARGS, open=False)
        await pool.open()
        try:
            saver = FencedSaver(AsyncPostgresSaver(pool), run_id=str(run.id), fence=1, on_fenced=lambda: None)
            unknown = "INSERT INTO checkpoints (thread_id, checkpoint_id, checkpoint) VALUES (%s, %s, '{}')"
            async with saver._cursor(pipeline=True) as cur:
                await cur.execute(unknown, (str(thread.id), "one"))
            async with pool.connection() as conn:
                await conn.execute(_BUMP, (run.id,))
            error = None
            try:
                async with saver._cursor(pipeline=True) as cur:
                    await cur.execute(unknown, (str(thread.id), "two"))
            except RunFencedError as exc:
                error = exc
            return await _checkpoint_count(pool, str(thread.id)), error
        finally:
            await pool.close()

    written, error = asyncio.run(scenario())
    assert written == 1
    assert isinstance(error, RunFencedError)


async def _open_pool() -> AsyncConnectionPool[Any]:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo(), kwargs=CONNECTION_KWARGS, open=False)
    await pool.open()
    return pool


@pytest.mark.django_db(transaction=True)
def test_a_steps_writes_go_out_with_the_checkpoint_that_follows_them(org: Any) -> None:
    """START -> a -> b with durability="sync" (the runtime's default): four checkpoints and three
    tasks' writes. Each task's writes join the checkpoint that follows: four statements, not seven."""
    thread, run = _running_run(org)

    async def scenario() -> tuple[list[str], int, int]:
        pool = await _open_pool()
        try:
            saver = FencedSaver(AsyncPostgresSaver(pool), run_id=str(run.id), fence=1, on_fenced=lambda: None)
            config = {"configurable": {"thread_id": str(thread.id)}}
            result = await _graph(saver).ainvoke({"trace": []}, config, durability="sync")
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) AS n FROM checkpoint_writes WHERE thread_id = %s", (str(thread.id),)
                )
                row = await cur.fetchone()
            return result["trace"], saver.statements, int(row["n"])  # type: ignore[index]
        finally:
            await pool.close()

    trace, statements, writes = asyncio.run(scenario())
    assert trace == ["a", "b"]
    assert writes == 5  # __start__, a and b; the first two also route to the next node
    assert statements == 4


@pytest.mark.django_db(transaction=True)
def test_a_finished_tasks_writes_do_not_wait_for_a_slower_task_of_its_step(org: Any) -> None:
    """A crash while a step's slow task runs must not cost the writes of the task that finished."""
    thread, run = _running_run(org)
    thread_id = str(thread.id)

    async def scenario() -> tuple[bool, list[str]]:
        pool = await _open_pool()
        release = asyncio.Event()

        async def slow(state: _State) -> dict[str, Any]:
            await release.wait()
            return {"trace": ["slow"]}

        builder = StateGraph(_State)
        builder.add_node("fast", lambda state: {"trace": ["fast"]})
        builder.add_node("slow", slow)
        builder.add_edge(START, "fast")
        builder.add_edge(START, "slow")
        builder.add_edge(["fast", "slow"], END)
        try:
            saver = FencedSaver(AsyncPostgresSaver(pool), run_id=str(run.id), fence=1, on_fenced=lambda: None)
            graph = builder.compile(checkpointer=saver)
            running = asyncio.ensure_future(
                graph.ainvoke({"trace": []}, {"configurable": {"thread_id": thread_id}}, durability="sync")
            )
            saved_early = False
            for _ in range(100):  # while `slow` waits, `fast`'s writes reach Postgres
                async with pool.connection() as conn:
                    cur = await conn.execute(
                        "SELECT count(*) AS n FROM checkpoint_writes w"
                        " JOIN checkpoints c USING (thread_id, checkpoint_id)"
                        " WHERE w.thread_id = %s AND c.metadata->>'step' = '0' AND w.channel = 'trace'",
                        (thread_id,),
                    )
                    row = await cur.fetchone()
                if row and row["n"]:
                    saved_early = not running.done()
                    break
                await asyncio.sleep(0.05)
            release.set()
            result = await running
            return saved_early, sorted(result["trace"])
        finally:
            await pool.close()

    saved_early, trace = asyncio.run(scenario())
    assert trace == ["fast", "slow"]
    assert saved_early


def test_rows_one_statement_would_write_twice_are_merged_as_running_them_in_turn_would() -> None:
    from langgraph.checkpoint.postgres import base

    def write(idx: int, blob: bytes) -> tuple[Any, ...]:
        return ("t", "", "c1", "task", "", idx, "ch", "bytes", blob)

    # do nothing on conflict: the first row stays
    statement = _merged(
        [
            (base.INSERT_CHECKPOINT_WRITES_SQL, [write(0, b"first")]),
            (base.INSERT_CHECKPOINT_WRITES_SQL, [write(0, b"second"), write(1, b"other")]),
        ]
    )
    assert statement is not None
    assert b"first" in statement[1]
    assert b"second" not in statement[1]
    assert b"other" in statement[1]
    # update on conflict: the last row wins
    statement = _merged(
        [
            (base.UPSERT_CHECKPOINT_WRITES_SQL, [write(-3, b"first")]),
            (base.UPSERT_CHECKPOINT_WRITES_SQL, [write(-3, b"second")]),
        ]
    )
    assert statement is not None
    assert b"second" in statement[1]
    assert b"first" not in statement[1]
    # one row under two kinds of INSERT: not merged (the writes run in turn, in one transaction)
    assert (
        _merged(
            [
                (base.INSERT_CHECKPOINT_WRITES_SQL, [write(-3, b"a")]),
                (base.UPSERT_CHECKPOINT_WRITES_SQL, [write(-3, b"b")]),
            ]
        )
        is None
    )
