"""Thread-scoped v2 events (§V2.4.5, §V2.8) from the same runs."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from atrium.runtime.engine.events import stream_run_dual, stream_run_v2
from atrium.runtime.engine.serde import to_jsonable
from atrium.runtime.engine.tests.conftest import CHAT_INPUT, STEPS_INPUT, bound_graph, make_request
from atrium.runtime.engine.v1_events import RunEvent
from atrium.runtime.engine.v2_events import ProtocolEvent

MESSAGE_LIFECYCLE = [
    "messages:message-start",
    "messages:content-block-start",
    *["messages:content-block-delta"] * 5,
    "messages:content-block-finish",
    "messages:message-finish",
]


def describe(event: ProtocolEvent) -> str:
    """``method[:data.event][@depth]``: enough to read an event sequence at a glance."""
    label = event.method
    if event.method in ("lifecycle", "messages"):
        label += f":{event.data['event']}"
    return label + (f"@{len(event.namespace)}" if event.namespace else "")


async def run_v2(graph_name: str, saver: InMemorySaver | None = None, **request: Any) -> list[ProtocolEvent]:
    return [event async for event in stream_run_v2(bound_graph(graph_name, saver), make_request(**request))]


async def test_chat_run_streams_lifecycle_values_and_a_message_lifecycle() -> None:
    events = await run_v2("chat", input=CHAT_INPUT)

    assert [describe(e) for e in events] == [
        "lifecycle:running",
        "checkpoints",
        "checkpoints",
        "values",
        "tasks",
        *MESSAGE_LIFECYCLE,
        "updates",
        "tasks",
        "checkpoints",
        "values",
        "lifecycle:completed",
    ]
    assert events[0].data == {"event": "running", "graph_name": "chat"}
    assert events[-1].data == {"event": "completed", "graph_name": "chat"}
    assert events[-1].is_run_terminal


async def test_message_lifecycle_keeps_the_message_id_it_has_in_values() -> None:
    events = await run_v2("chat", input=CHAT_INPUT)

    messages = [to_jsonable(e.data) for e in events if e.method == "messages"]
    assert messages[0] == {"event": "message-start", "role": "ai", "id": "ai-1"}
    assert messages[1] == {
        "event": "content-block-start",
        "index": 0,
        "content": {"type": "text", "text": ""},
    }
    assert [m["delta"] for m in messages[2:7]] == [
        {"type": "text-delta", "text": text} for text in ["hello", " ", "there", " ", "friend"]
    ]
    assert messages[7] == {
        "event": "content-block-finish",
        "index": 0,
        "content": {"type": "text", "text": "hello there friend"},
    }
    assert messages[8] == {"event": "message-finish"}
    final_values = to_jsonable(next(e.data for e in reversed(events) if e.method == "values"))
    assert final_values["messages"][-1]["id"] == "ai-1"
    assert {e.node for e in events if e.method == "messages"} == {"agent"}


async def test_each_checkpoint_comes_just_before_the_values_of_its_superstep() -> None:
    events = await run_v2("simple", input=STEPS_INPUT)

    pairs = [
        (events[i].data, events[i + 1].data)
        for i in range(len(events) - 1)
        if events[i].method == "checkpoints" and events[i + 1].method == "values"
    ]
    assert [(c["step"], c["source"], v) for c, v in pairs] == [
        (0, "loop", {"steps": []}),
        (1, "loop", {"steps": ["first"]}),
        (2, "loop", {"steps": ["first", "second"]}),
        (3, "loop", {"steps": ["first", "second", "third"]}),
    ]
    input_checkpoint, first_loop = [e.data for e in events if e.method == "checkpoints"][:2]
    assert set(input_checkpoint) == {"id", "step", "source"}
    assert input_checkpoint["source"] == "input"
    assert first_loop["parent_id"] == input_checkpoint["id"]


async def test_subgraph_gets_started_and_completed_lifecycle_under_its_namespace() -> None:
    events = await run_v2("nested", input=STEPS_INPUT)

    nested = [e for e in events if e.namespace]
    namespace = nested[0].namespace
    assert len(namespace) == 1
    assert namespace[0].startswith("tools:")
    task_id = namespace[0].split(":", 1)[1]
    assert nested[0].data == {
        "event": "started",
        "namespace": [namespace[0]],
        "graph_name": "tools",
        "trigger_call_id": task_id,
    }
    assert nested[-1].data == {"event": "completed", "namespace": [namespace[0]], "graph_name": "tools"}
    assert [describe(e) for e in nested] == [
        "lifecycle:started@1",
        "checkpoints@1",
        "checkpoints@1",
        "values@1",
        "tasks@1",
        *[f"{label}@1" for label in MESSAGE_LIFECYCLE],
        "updates@1",
        "tasks@1",
        "checkpoints@1",
        "values@1",
        "lifecycle:completed@1",
    ]
    completed_at = events.index(nested[-1])
    assert events[completed_at - 1].method == "tasks"
    assert events[completed_at - 1].data["id"] == task_id


async def test_interrupt_becomes_input_requested_before_the_interrupted_terminal() -> None:
    events = await run_v2("agent", input=CHAT_INPUT)

    tail = [describe(e) for e in events[-4:]]
    assert tail == ["input.requested", "values", "tasks", "lifecycle:interrupted"]
    requested = events[-4]
    assert requested.namespace == ()
    assert requested.data["payload"] == {"question": "approve?"}
    assert isinstance(requested.data["interrupt_id"], str)
    assert events[-1].data == {"event": "interrupted", "graph_name": "agent"}
    assert all("__interrupt__" not in e.data for e in events if e.method == "values")
    assert sum(e.method == "input.requested" for e in events) == 1


async def test_failure_ends_with_failed_lifecycle_and_the_error_message() -> None:
    stream = stream_run_v2(bound_graph("failing"), make_request(input=STEPS_INPUT))

    events = [event async for event in stream]

    assert events[-1].data == {"event": "failed", "graph_name": "failing", "error": "kaboom"}
    assert events[-1].is_run_terminal
    assert sum(e.is_run_terminal for e in events) == 1
    assert stream.outcome is not None
    assert stream.outcome.status == "error"


async def test_custom_writes_are_wrapped_as_payload() -> None:
    events = await run_v2("simple", input=STEPS_INPUT)

    assert [e.data for e in events if e.method == "custom"] == [{"payload": {"progress": "first"}}]


async def test_resumed_run_completes_without_new_input_requests(saver: InMemorySaver) -> None:
    await run_v2("approval", saver, thread_id="t-v2", input=STEPS_INPUT)

    events = await run_v2("approval", saver, thread_id="t-v2", command={"resume": "yes"})

    assert events[-1].data == {"event": "completed", "graph_name": "approval"}
    assert not [e for e in events if e.method == "input.requested"]
    assert events[-2].method == "values"
    assert events[-2].data == {"steps": ["prepare", "ask"], "approved": "yes"}


async def test_tool_calls_stream_as_tools_events_and_a_tool_message() -> None:
    events = await run_v2("tooler", input=CHAT_INPUT)

    tools = [to_jsonable(e.data) for e in events if e.method == "tools"]
    assert tools[0] == {
        "event": "tool-started",
        "tool_call_id": "call_1",
        "tool_name": "lookup",
        "input": {"query": "x"},
    }
    assert tools[1]["event"] == "tool-finished"
    assert tools[1]["output"]["content"] == "found x"
    starts = [e.data for e in events if e.method == "messages" and e.data["event"] == "message-start"]
    assert starts[0] == {"event": "message-start", "role": "ai", "id": "ai-call"}
    assert starts[1]["role"] == "tool"
    assert starts[1]["tool_call_id"] == "call_1"
    final_messages = next(e.data for e in reversed(events) if e.method == "values")["messages"]
    assert final_messages[-1].id == starts[1]["id"]


async def test_params_are_the_wire_params() -> None:
    event = ProtocolEvent("values", ("tools:1",), {"a": 1}, node="agent", timestamp=42)

    assert event.params() == {"namespace": ["tools:1"], "timestamp": 42, "data": {"a": 1}, "node": "agent"}


async def test_dual_stream_yields_both_protocols_from_one_execution() -> None:
    request = make_request(input=STEPS_INPUT, stream_mode=["values"])
    stream = stream_run_dual(bound_graph("nested"), request)

    events = [event async for event in stream]

    v1 = [e for e in events if isinstance(e, RunEvent)]
    v2 = [e for e in events if isinstance(e, ProtocolEvent)]
    assert [e.event for e in v1] == ["metadata", "values", "values", "values"]
    assert v2[0].data["event"] == "running"
    assert v2[-1].data["event"] == "completed"
    assert any(e.namespace for e in v2)
