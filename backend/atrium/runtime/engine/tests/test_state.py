"""ThreadState and history shaping (§1.3)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from atrium.runtime.engine.events import stream_run
from atrium.runtime.engine.serde import to_jsonable
from atrium.runtime.engine.state import checkpoint_config, checkpoint_ref, empty_thread_state, thread_state
from atrium.runtime.engine.tests.conftest import STEPS_INPUT, bound_graph, make_request


async def run_to_end(graph_name: str, saver: InMemorySaver, thread_id: str) -> Any:
    graph = bound_graph(graph_name, saver)
    async for _ in stream_run(graph, make_request(thread_id=thread_id, input=STEPS_INPUT)):
        pass
    return graph


async def test_interrupted_thread_state_lists_the_pending_interrupt(saver: InMemorySaver) -> None:
    graph = await run_to_end("approval", saver, "t1")

    state = to_jsonable(thread_state(await graph.aget_state({"configurable": {"thread_id": "t1"}})))

    interrupt = state["interrupts"][0]
    assert interrupt == {"id": interrupt["id"], "value": {"question": "approve?"}}
    assert state["values"] == {"steps": ["prepare"]}
    assert state["next"] == ["ask"]
    assert state["tasks"] == [
        {
            "id": state["tasks"][0]["id"],
            "name": "ask",
            "path": ["__pregel_pull", "ask"],
            "error": None,
            "interrupts": [interrupt],
            "checkpoint": None,
            "state": None,
            "result": None,
        }
    ]
    assert state["checkpoint"] == {
        "checkpoint_id": state["checkpoint_id"],
        "thread_id": "t1",
        "checkpoint_ns": "",
    }
    assert state["parent_checkpoint"]["checkpoint_id"] == state["parent_checkpoint_id"]
    assert state["metadata"]["source"] == "loop"
    assert state["metadata"]["step"] == 1
    assert isinstance(state["created_at"], str)


async def test_failed_task_reports_its_error_as_a_string(saver: InMemorySaver) -> None:
    graph = await run_to_end("failing", saver, "t2")

    state = thread_state(await graph.aget_state({"configurable": {"thread_id": "t2"}}))

    assert state["next"] == ["explode"]
    assert state["tasks"][0]["error"] == "ValueError('kaboom')"


async def test_history_is_newest_first_and_the_root_has_no_parent(saver: InMemorySaver) -> None:
    graph = await run_to_end("simple", saver, "t3")

    history = [thread_state(s) async for s in graph.aget_state_history({"configurable": {"thread_id": "t3"}})]

    assert [h["metadata"]["step"] for h in history] == [3, 2, 1, 0, -1]
    assert history[0]["parent_checkpoint"]["checkpoint_id"] == history[1]["checkpoint"]["checkpoint_id"]
    assert history[-1]["parent_checkpoint"] is None
    assert history[-1]["parent_checkpoint_id"] is None
    assert history[-1]["metadata"]["source"] == "input"


async def test_subgraph_state_is_nested_under_its_task(saver: InMemorySaver) -> None:
    graph = bound_graph("approval", saver)
    async for _ in stream_run(graph, make_request(thread_id="t4", input=STEPS_INPUT)):
        pass

    state = thread_state(await graph.aget_state({"configurable": {"thread_id": "t4"}}, subgraphs=True))

    assert state["tasks"][0]["state"] is None  # a plain node: no nested state to show


def test_empty_thread_state_has_null_checkpoints() -> None:
    assert empty_thread_state() == {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": None,
        "created_at": None,
        "checkpoint": None,
        "parent_checkpoint": None,
        "interrupts": [],
        "checkpoint_id": None,
        "parent_checkpoint_id": None,
    }


def test_checkpoint_ref_is_none_without_a_checkpoint_id() -> None:
    assert checkpoint_ref(None) is None
    assert checkpoint_ref({"configurable": {"thread_id": "t"}}) is None
    assert checkpoint_ref(
        {"configurable": {"thread_id": "t", "checkpoint_id": "c", "checkpoint_ns": None}}
    ) == {
        "checkpoint_id": "c",
        "thread_id": "t",
        "checkpoint_ns": "",
    }


@pytest.mark.parametrize(
    "before",
    [
        "c1",
        {"checkpoint_id": "c1"},
        {"checkpoint_id": "c1", "checkpoint_ns": "", "thread_id": "someone-else"},
        {"configurable": {"checkpoint_id": "c1", "thread_id": "someone-else"}},
    ],
)
def test_checkpoint_config_accepts_every_form_clients_send(before: Any) -> None:
    assert checkpoint_config("t", before) == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c1"}
    }


def test_checkpoint_config_keeps_a_namespace_without_an_id() -> None:
    assert checkpoint_config("t", {"checkpoint_ns": "tools:x"}) == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "tools:x"}
    }
    assert checkpoint_config("t", None) is None
    assert checkpoint_config("t", {}) is None


async def test_history_before_a_bare_id_pages_back(saver: InMemorySaver) -> None:
    graph = await run_to_end("simple", saver, "t5")
    config = {"configurable": {"thread_id": "t5"}}
    newest = [s async for s in graph.aget_state_history(config, limit=2)]

    before = checkpoint_config("t5", newest[-1].config["configurable"]["checkpoint_id"])
    older = [s async for s in graph.aget_state_history(config, before=before, limit=1)]

    assert older[0].metadata is not None
    assert older[0].metadata["step"] == 1
