"""Messages as v2 content-block lifecycles, for the block kinds models stream."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage

from atrium.runtime.engine.v2_messages import MessageLifecycles


def test_streamed_tool_call_args_arrive_as_deltas_and_finish_parsed() -> None:
    lifecycles = MessageLifecycles()
    first = AIMessageChunk(
        content="",
        id="m1",
        tool_call_chunks=[{"name": "search", "args": '{"q":', "id": "call_1", "index": 0}],
    )
    last = AIMessageChunk(
        content="",
        id="m1",
        tool_call_chunks=[{"name": None, "args": ' "x"}', "id": None, "index": 0}],
        chunk_position="last",
        usage_metadata={"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    )

    events = [*lifecycles.feed((), first), *lifecycles.feed((), last)]

    assert events == [
        {"event": "message-start", "role": "ai", "id": "m1"},
        {
            "event": "content-block-start",
            "index": 0,
            "content": {"type": "tool_call_chunk", "id": "call_1", "name": "search", "args": ""},
        },
        {"event": "content-block-delta", "index": 0, "delta": {"type": "tool-call-delta", "args": '{"q":'}},
        {"event": "content-block-delta", "index": 0, "delta": {"type": "tool-call-delta", "args": ' "x"}'}},
        {
            "event": "content-block-finish",
            "index": 0,
            "content": {"type": "tool_call", "id": "call_1", "name": "search", "args": {"q": "x"}},
        },
        {"event": "message-finish", "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}},
    ]


def test_reasoning_and_text_are_separate_blocks() -> None:
    lifecycles = MessageLifecycles()
    chunk = AIMessageChunk(
        content=[{"type": "reasoning", "reasoning": "hmm"}, {"type": "text", "text": "ok"}],
        id="m2",
        chunk_position="last",
    )

    events = list(lifecycles.feed((), chunk))

    assert [(e["event"], e.get("index")) for e in events] == [
        ("message-start", None),
        ("content-block-start", 0),
        ("content-block-delta", 0),
        ("content-block-start", 1),
        ("content-block-delta", 1),
        ("content-block-finish", 0),
        ("content-block-finish", 1),
        ("message-finish", None),
    ]
    assert events[2]["delta"] == {"type": "reasoning-delta", "reasoning": "hmm"}
    assert events[5]["content"] == {"type": "reasoning", "reasoning": "hmm"}


def test_whole_messages_replay_the_full_lifecycle_at_once() -> None:
    lifecycles = MessageLifecycles()

    ai = list(lifecycles.feed(("tools:1",), AIMessage(content="done", id="m3")))
    tool = list(lifecycles.feed((), ToolMessage(content="42", tool_call_id="call_1", id="m4")))

    assert [e["event"] for e in ai] == [
        "message-start",
        "content-block-start",
        "content-block-delta",
        "content-block-finish",
        "message-finish",
    ]
    assert tool[0] == {"event": "message-start", "role": "tool", "id": "m4", "tool_call_id": "call_1"}
    assert tool[3] == {"event": "content-block-finish", "index": 0, "content": {"type": "text", "text": "42"}}


def test_invalid_tool_call_args_finish_as_an_invalid_tool_call() -> None:
    lifecycles = MessageLifecycles()
    chunk = AIMessageChunk(
        content="",
        id="m5",
        tool_call_chunks=[{"name": "f", "args": "{oops", "id": "c", "index": 0}],
        chunk_position="last",
    )

    finish = list(lifecycles.feed((), chunk))[-2]

    assert finish["content"] == {
        "type": "invalid_tool_call",
        "id": "c",
        "name": "f",
        "args": "{oops",
        "error": "Failed to parse tool call arguments as JSON",
    }


def test_messages_never_flagged_last_are_finished_on_close() -> None:
    lifecycles = MessageLifecycles()
    list(lifecycles.feed(("a:1",), AIMessageChunk(content="x", id="m6")))
    list(lifecycles.feed((), AIMessageChunk(content="y", id="m7")))

    closed_a = list(lifecycles.close(("a:1",)))
    closed_rest = list(lifecycles.close())

    assert closed_a == [
        (("a:1",), {"event": "content-block-finish", "index": 0, "content": {"type": "text", "text": "x"}}),
        (("a:1",), {"event": "message-finish"}),
    ]
    assert [ns for ns, _ in closed_rest] == [(), ()]
    assert list(lifecycles.close()) == []


def test_message_start_carries_provider_and_model() -> None:
    message = AIMessage(
        content="", id="m8", response_metadata={"model_provider": "openai", "model_name": "gpt-x"}
    )

    start = next(iter(MessageLifecycles().feed((), message)))

    assert start == {
        "event": "message-start",
        "role": "ai",
        "id": "m8",
        "metadata": {"provider": "openai", "model": "gpt-x"},
    }
