"""The echo graph: ``prepare → respond → finish``, no model.

It answers every turn with an AIMessage repeating the last human message. Benchmarks and smoke tests
use it to measure the platform (queueing, checkpoints, streaming) rather than a model, so each node
is a few lines that return partial updates.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph

from atrium_agents.echo.state import EchoState


async def prepare(state: EchoState) -> dict[str, Any]:
    last_human = next((m for m in reversed(state.get("messages", [])) if isinstance(m, HumanMessage)), None)
    return {"pending": last_human.text if last_human is not None else ""}


async def respond(state: EchoState) -> dict[str, Any]:
    return {"messages": [AIMessage(content=state.get("pending", ""))]}


async def finish(state: EchoState) -> dict[str, Any]:
    return {"pending": "", "turns": state.get("turns", 0) + 1}


builder = StateGraph(EchoState)
builder.add_node(prepare)
builder.add_node(respond)
builder.add_node(finish)
builder.add_edge(START, "prepare")
builder.add_edge("prepare", "respond")
builder.add_edge("respond", "finish")
builder.add_edge("finish", END)

# Compiled without a checkpointer or store: the runtime injects its Postgres ones when it runs graphs.
graph = builder.compile(name="echo")
