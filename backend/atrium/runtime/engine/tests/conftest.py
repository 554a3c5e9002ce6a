"""Shared helpers: fixture graphs bound to an in-memory checkpointer, and runs collected as JSON."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from atrium.runtime.engine.parts import CompiledGraph
from atrium.runtime.engine.request import RunRequest
from atrium.runtime.engine.serde import to_jsonable
from atrium.runtime.engine.tests.fixtures import graphs
from atrium.runtime.engine.v1_events import RunEvent

STEPS_INPUT: dict[str, Any] = {"steps": []}
CHAT_INPUT: dict[str, Any] = {"messages": [{"type": "human", "content": "hi", "id": "human-1"}]}
AI_REPLY: dict[str, Any] = {
    "content": "hello there friend",
    "additional_kwargs": {},
    "response_metadata": {},
    "type": "ai",
    "name": None,
    "id": "ai-1",
    "tool_calls": [],
    "invalid_tool_calls": [],
    "usage_metadata": None,
}
HUMAN_HI: dict[str, Any] = {
    "content": "hi",
    "additional_kwargs": {},
    "response_metadata": {},
    "type": "human",
    "name": None,
    "id": "human-1",
}


def bound_graph(name: str, checkpointer: InMemorySaver | None = None) -> CompiledGraph:
    """A fixture graph with its own saver, named like the registry names it (after its id)."""
    graph: CompiledGraph = getattr(graphs, name)
    return graph.copy(update={"checkpointer": checkpointer or InMemorySaver(), "name": name})


def make_request(**overrides: Any) -> RunRequest:
    fields: dict[str, Any] = {"run_id": str(uuid.uuid4()), "thread_id": str(uuid.uuid4())}
    fields.update(overrides)
    return RunRequest(**fields)


def jsonable(events: list[RunEvent]) -> list[Any]:
    """``[[name, data-as-JSON], ...]``: what a client decodes from the SSE frames."""
    return [[event.event, to_jsonable(event.data)] for event in events]


@pytest.fixture
def saver() -> InMemorySaver:
    return InMemorySaver()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()
