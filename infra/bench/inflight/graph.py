"""The in-flight benchmark's graph: it waits as an agent does, a model call, a tool call and a model
call (`asyncio.sleep` only, no CPU), so a server's runs/s shows how many runs it holds at once.
The waits come from the input (`model_seconds`, default 1; `tool_seconds`, default 0.2)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    model_seconds: float
    tool_seconds: float
    steps: Annotated[list[str], operator.add]


async def model(state: State) -> dict[str, Any]:
    await asyncio.sleep(float(state.get("model_seconds", 1.0)))
    return {"steps": ["model"]}


async def tool(state: State) -> dict[str, Any]:
    await asyncio.sleep(float(state.get("tool_seconds", 0.2)))
    return {"steps": ["tool"]}


async def answer(state: State) -> dict[str, Any]:
    await asyncio.sleep(float(state.get("model_seconds", 1.0)))
    return {"steps": ["answer"]}


_graph = StateGraph(State)
_graph.add_node("model", model)
_graph.add_node("tool", tool)
_graph.add_node("answer", answer)
_graph.add_edge(START, "model")
_graph.add_edge("model", "tool")
_graph.add_edge("tool", "answer")
_graph.add_edge("answer", END)
graph = _graph.compile()
