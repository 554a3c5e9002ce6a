"""Run-scoped SSE events: names and data shapes as the Agent Server sends them (§2.2-§2.4)."""

from __future__ import annotations

import re
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.runtime import RunControl

from atrium.runtime.engine.events import stream_run
from atrium.runtime.engine.request import RunRequest
from atrium.runtime.engine.tests.conftest import (
    AI_REPLY,
    CHAT_INPUT,
    HUMAN_HI,
    STEPS_INPUT,
    bound_graph,
    jsonable,
    make_request,
)

TASK_SEGMENT = re.compile(r"tools:[0-9a-f-]{36}")


async def run(graph_name: str, request: RunRequest, saver: InMemorySaver | None = None) -> list[Any]:
    stream = stream_run(bound_graph(graph_name, saver), request)
    return jsonable([event async for event in stream])


def names(events: list[Any]) -> list[str]:
    """Event names with the (random) task id of ``tools:<task_id>`` segments blanked."""
    return [TASK_SEGMENT.sub("tools:<task>", e[0]) for e in events]


async def test_metadata_comes_first_with_run_and_thread_ids() -> None:
    request = make_request(input=STEPS_INPUT, attempt=2)

    events = await run("simple", request)

    assert events[0] == ["metadata", {"run_id": request.run_id, "thread_id": request.thread_id, "attempt": 2}]


async def test_values_mode_sends_the_state_after_every_superstep() -> None:
    events = await run("simple", make_request(input=STEPS_INPUT))

    assert events[1:] == [
        ["values", {"steps": []}],
        ["values", {"steps": ["first"]}],
        ["values", {"steps": ["first", "second"]}],
        ["values", {"steps": ["first", "second", "third"]}],
    ]


async def test_all_modes_interleave_like_the_reference() -> None:
    modes = ["values", "updates", "custom", "tasks", "checkpoints", "debug", "messages-tuple"]

    events = await run("simple", make_request(input=STEPS_INPUT, stream_mode=modes))

    superstep = ["checkpoints", "debug", "tasks", "debug", "updates", "tasks", "debug", "values"]
    assert [e[0] for e in events] == [
        "metadata",
        *["checkpoints", "debug", "values"],
        *["checkpoints", "debug", "tasks", "debug", "custom", "updates", "tasks", "debug", "values"],
        *superstep,
        *superstep,
        *["checkpoints", "debug"],
    ]
    assert ["custom", {"progress": "first"}] in events
    assert ["updates", {"second": {"steps": ["second"]}}] in events
    task_start = next(e[1] for e in events if e[0] == "tasks")
    assert set(task_start) == {"id", "name", "input", "triggers", "metadata"}
    assert task_start["name"] == "first"
    task_result = next(e[1] for e in events if e[0] == "tasks" and "result" in e[1])
    assert task_result == {
        "id": task_start["id"],
        "name": "first",
        "error": None,
        "result": {"steps": ["first"]},
        "interrupts": [],
    }


async def test_checkpoints_keep_their_config_and_debug_checkpoints_gain_client_refs() -> None:
    request = make_request(input=STEPS_INPUT, stream_mode=["checkpoints", "debug"])

    events = await run("simple", request)

    checkpoint = events[1][1]
    assert set(checkpoint) == {"config", "parent_config", "values", "metadata", "next", "tasks"}
    assert checkpoint["parent_config"] is None
    assert checkpoint["next"] == ["__start__"]
    debug = events[2][1]
    assert debug["type"] == "checkpoint"
    assert debug["step"] == -1
    assert debug["payload"]["checkpoint"] == {
        "checkpoint_id": checkpoint["config"]["configurable"]["checkpoint_id"],
        "thread_id": request.thread_id,
        "checkpoint_ns": "",
    }
    assert debug["payload"]["parent_checkpoint"] is None


async def test_messages_tuple_is_named_messages_and_carries_chunk_and_metadata() -> None:
    events = await run("chat", make_request(input=CHAT_INPUT, stream_mode=["messages-tuple", "values"]))

    assert [e[0] for e in events] == ["metadata", "values", *["messages"] * 5, "values"]
    chunks = [e[1] for e in events if e[0] == "messages"]
    assert [c[0]["content"] for c in chunks] == ["hello", " ", "there", " ", "friend"]
    assert chunks[0][0] == {
        "content": "hello",
        "additional_kwargs": {},
        "response_metadata": {},
        "type": "AIMessageChunk",
        "name": None,
        "id": "ai-1",
        "tool_calls": [],
        "invalid_tool_calls": [],
        "usage_metadata": None,
        "tool_call_chunks": [],
        "chunk_position": None,
    }
    assert chunks[-1][0]["chunk_position"] == "last"
    metadata = chunks[0][1]
    assert metadata["langgraph_node"] == "agent"
    assert metadata["langgraph_checkpoint_ns"].startswith("agent:")
    assert metadata["checkpoint_ns"] == metadata["langgraph_checkpoint_ns"]
    assert events[-1] == ["values", {"messages": [HUMAN_HI, AI_REPLY]}]


async def test_legacy_messages_mode_sends_metadata_once_then_accumulated_partials() -> None:
    events = await run("chat", make_request(input=CHAT_INPUT, stream_mode=["messages"]))

    assert [e[0] for e in events] == ["metadata", "messages/metadata", *["messages/partial"] * 5]
    assert list(events[1][1]) == ["ai-1"]
    assert events[1][1]["ai-1"]["metadata"]["langgraph_node"] == "agent"
    partials = [e[1][0]["content"] for e in events[2:]]
    assert partials == ["hello", "hello ", "hello there", "hello there ", "hello there friend"]
    assert events[-1][1] == [AI_REPLY]


async def test_subgraph_events_are_hidden_unless_stream_subgraphs() -> None:
    modes = ["values", "updates", "messages-tuple"]

    events = await run("nested", make_request(input=STEPS_INPUT, stream_mode=modes))

    assert [e[0] for e in events] == ["metadata", "values", "updates", "values", "updates", "values"]
    assert events[-1] == ["values", {"steps": ["agent", "tools", "hello there friend"]}]


async def test_subgraph_events_are_named_mode_pipe_namespace() -> None:
    request = make_request(
        input=STEPS_INPUT, stream_mode=["values", "updates", "messages-tuple"], stream_subgraphs=True
    )

    events = await run("nested", request)

    assert names(events) == [
        "metadata",
        "values",
        "updates",
        "values",
        "values|tools:<task>",
        *["messages|tools:<task>"] * 5,
        "updates|tools:<task>",
        "values|tools:<task>",
        "updates",
        "values",
    ]
    namespace = events[4][0].split("|")[1]
    chunk_metadata = events[5][1][1]
    assert chunk_metadata["langgraph_checkpoint_ns"].startswith(namespace + "|agent:")


async def test_interrupt_ends_with_interrupt_update_and_values() -> None:
    events = await run("approval", make_request(input=STEPS_INPUT, stream_mode=["values", "updates"]))

    assert [e[0] for e in events] == ["metadata", "values", "updates", "values", "updates", "values"]
    interrupt = events[4][1]["__interrupt__"][0]
    assert interrupt == {"value": {"question": "approve?"}, "id": interrupt["id"], "response_schema": None}
    assert events[5] == ["values", {"steps": ["prepare"], "__interrupt__": [interrupt]}]


async def test_interrupt_reaches_values_even_without_updates_mode() -> None:
    stream = stream_run(bound_graph("approval"), make_request(input=STEPS_INPUT))

    events = jsonable([event async for event in stream])

    assert [e[0] for e in events] == ["metadata", "values", "values", "values"]
    assert events[-1][1]["__interrupt__"][0]["value"] == {"question": "approve?"}
    assert stream.outcome is not None
    assert stream.outcome.status == "interrupted"


async def test_resume_command_continues_the_interrupted_run(saver: InMemorySaver) -> None:
    thread_id = "thread-resume"
    await run("approval", make_request(thread_id=thread_id, input=STEPS_INPUT), saver)

    resumed = await run(
        "approval",
        make_request(thread_id=thread_id, command={"resume": "yes"}, stream_mode=["values", "updates"]),
        saver,
    )

    assert resumed[1:] == [
        ["values", {"steps": ["prepare"]}],
        ["updates", {"ask": {"approved": "yes", "steps": ["ask"]}}],
        ["values", {"steps": ["prepare", "ask"], "approved": "yes"}],
    ]


async def test_resume_by_interrupt_id_map(saver: InMemorySaver) -> None:
    thread_id = "thread-resume-map"
    first = await run("approval", make_request(thread_id=thread_id, input=STEPS_INPUT), saver)
    interrupt_id = first[-1][1]["__interrupt__"][0]["id"]

    resumed = await run(
        "approval", make_request(thread_id=thread_id, command={"resume": {interrupt_id: "mapped"}}), saver
    )

    assert resumed[-1] == ["values", {"steps": ["prepare", "ask"], "approved": "mapped"}]


async def test_breakpoint_sends_an_empty_interrupt_update(saver: InMemorySaver) -> None:
    request = make_request(input=STEPS_INPUT, stream_mode=["values", "updates"], interrupt_before=["second"])
    stream = stream_run(bound_graph("simple", saver), request)

    events = jsonable([event async for event in stream])

    assert events[1:] == [
        ["values", {"steps": []}],
        ["updates", {"first": {"steps": ["first"]}}],
        ["values", {"steps": ["first"]}],
        ["updates", {"__interrupt__": []}],
    ]
    assert stream.outcome is not None
    assert stream.outcome.status == "interrupted"


async def test_failure_ends_with_an_error_event_and_keeps_the_exception() -> None:
    stream = stream_run(
        bound_graph("failing"), make_request(input=STEPS_INPUT, stream_mode=["values", "updates"])
    )

    events = jsonable([event async for event in stream])

    assert events[1:] == [["values", {"steps": []}], ["error", {"error": "ValueError", "message": "kaboom"}]]
    assert stream.outcome is not None
    assert stream.outcome.status == "error"
    assert isinstance(stream.outcome.error, ValueError)


async def test_events_mode_forwards_callback_events_and_still_streams_other_modes() -> None:
    events = await run("chat", make_request(input=CHAT_INPUT, stream_mode=["events", "values"]))

    kinds = [e[0] if e[0] != "events" else f"events:{e[1]['event']}:{e[1]['name']}" for e in events]
    assert kinds == [
        "metadata",
        "events:on_chain_start:chat",
        "values",
        "events:on_chain_start:agent",
        "events:on_chat_model_start:GenericFakeChatModel",
        *["events:on_chat_model_stream:GenericFakeChatModel"] * 5,
        "events:on_chat_model_end:GenericFakeChatModel",
        "events:on_chain_stream:agent",
        "events:on_chain_end:agent",
        "values",
        "events:on_chain_end:chat",
    ]
    start = events[1][1]
    assert set(start) == {"event", "data", "name", "tags", "run_id", "metadata", "parent_ids"}


async def test_error_in_events_mode_is_an_error_event() -> None:
    events = await run("failing", make_request(input=STEPS_INPUT, stream_mode=["events"]))

    assert events[-1] == ["error", {"error": "ValueError", "message": "kaboom"}]


async def test_run_config_carries_ids_and_attempt_into_metadata() -> None:
    request = make_request(input=CHAT_INPUT, stream_mode=["messages-tuple"])

    events = await run("chat", request)

    metadata = events[1][1][1]
    assert metadata["run_id"] == request.run_id
    assert metadata["thread_id"] == request.thread_id
    assert metadata["run_attempt"] == 1


async def test_a_drain_request_stops_the_run_resumably(saver: InMemorySaver) -> None:
    control = RunControl()
    control.request_drain("worker shutdown")
    request = make_request(thread_id="t-drain", input=STEPS_INPUT, control=control)
    stream = stream_run(bound_graph("simple", saver), request)

    events = jsonable([event async for event in stream])

    assert stream.outcome is not None
    assert stream.outcome.status == "drained"
    assert [e[0] for e in events if e[0] == "error"] == []
    resumed = await run("simple", make_request(thread_id="t-drain"), saver)
    assert resumed[-1] == ["values", {"steps": ["first", "second", "third"]}]


async def test_exit_durability_still_streams_every_superstep() -> None:
    events = await run("simple", make_request(input=STEPS_INPUT, durability="exit"))

    assert events[-1] == ["values", {"steps": ["first", "second", "third"]}]
    assert len(events) == 5
