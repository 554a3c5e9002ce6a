"""A graph of five sequential steps that records every execution of a node in a table of its own.

Each node inserts a row (thread, node, attempt, pid, clock time) through its own psycopg connection
when it starts, then sleeps, so a worker killed at a random moment is often mid-step. The fault tests
compare these rows with the thread's checkpoints: a node may run again only if it never committed.
"""

from __future__ import annotations

import asyncio
import operator
import os
from typing import Annotated, Any, TypedDict

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

NODES = ("s1", "s2", "s3", "s4", "s5")
INSERT = "INSERT INTO fault_node_exec (thread_id, node, attempt, pid) VALUES (%s, %s, %s, %s)"


class State(TypedDict):
    trace: Annotated[list[str], operator.add]


def _node(name: str) -> Any:
    async def node(state: State, config: RunnableConfig) -> dict[str, Any]:
        configurable = config.get("configurable") or {}
        metadata = config.get("metadata") or {}
        row = (str(configurable.get("thread_id")), name, int(metadata.get("run_attempt") or 0), os.getpid())
        dsn = os.environ["ATRIUM_FAULTS_DSN"]
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await conn.execute(INSERT, row)
        await asyncio.sleep(float(configurable.get("step_seconds") or 0.3))
        return {"trace": [name]}

    return node


builder = StateGraph(State)
previous = START
for step in NODES:
    builder.add_node(step, _node(step))
    builder.add_edge(previous, step)
    previous = step
builder.add_edge(previous, END)
graph = builder.compile()
