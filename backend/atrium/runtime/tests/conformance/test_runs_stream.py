"""§2 streaming: every stream mode, subgraph namespacing, errors, headers and heartbeats (rows 8, 9,
24, 32)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import (
    CHAT_INPUT,
    REPLY,
    collect,
    is_uuid,
    names,
    new_thread,
    slow_input,
)


async def test_stream_values_updates_messages_custom(stack: LiveStack) -> None:
    """Row 8: the first event is `metadata`; `messages-tuple` arrives as `messages` `[chunk, meta]`."""
    client = stack.client()
    tid = await new_thread(client)
    created: list[dict[str, Any]] = []
    parts = await collect(
        client.runs.stream(
            tid,
            "chat",
            input=CHAT_INPUT,
            stream_mode=["values", "updates", "messages-tuple", "custom"],
            on_run_created=created.append,
        )
    )
    assert created
    assert created[0]["thread_id"] == tid
    run_id = created[0]["run_id"]
    assert parts[0].event == "metadata"
    assert parts[0].data["run_id"] == run_id
    assert parts[0].data.get("thread_id") == tid
    assert parts[0].data.get("attempt") == 1
    kinds = set(names(parts))
    assert {"values", "updates", "messages", "custom"} <= kinds
    assert "messages-tuple" not in kinds
    messages = [p.data for p in parts if p.event == "messages"]
    for chunk, meta in messages:
        assert chunk["type"] == "AIMessageChunk"
        assert meta["langgraph_node"] == "agent"
        assert meta["langgraph_checkpoint_ns"].startswith("agent:")
        assert meta["thread_id"] == tid
        assert meta["run_id"] == run_id
        assert meta["graph_id"] == "chat"
        assert is_uuid(meta["assistant_id"])
    assert len({chunk["id"] for chunk, _ in messages}) == 1
    assert "".join(chunk["content"] for chunk, _ in messages) == REPLY
    assert messages[-1][0].get("chunk_position") == "last"
    assert [p.data for p in parts if p.event == "custom"] == [{"progress": "thinking"}]
    assert [p.data for p in parts if p.event == "updates"][-1]["agent"]["messages"][-1]["content"] == REPLY
    final = [p.data for p in parts if p.event == "values"][-1]
    assert [m["content"] for m in final["messages"]] == ["hi", REPLY]
    # §2.1: the terminal status is written before the stream closes, so no polling is needed here.
    run = await client.runs.get(tid, run_id)
    assert run["status"] == "success"
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle"
    assert thread["metadata"]["graph_id"] == "chat"
    assert is_uuid(thread["metadata"]["assistant_id"])


async def test_stream_values_only_by_default(stack: LiveStack) -> None:
    client = stack.client()
    parts = await collect(client.runs.stream(await new_thread(client), "simple", input={"steps": []}))
    assert names(parts) == ["metadata", "values", "values", "values", "values"]
    assert parts[-1].data["steps"] == ["first", "second", "third"]
    assert all(p.id is None for p in parts)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("updates", {"updates"}),
        ("custom", {"custom"}),
        ("tasks", {"tasks"}),
        ("checkpoints", {"checkpoints"}),
        ("debug", {"debug"}),
        ("events", {"events"}),
        ("messages", {"messages/metadata", "messages/partial"}),
    ],
)
async def test_each_stream_mode(stack: LiveStack, mode: str, expected: set[str]) -> None:
    """§2.2: only the requested modes are streamed, plus `metadata`."""
    client = stack.client()
    parts = await collect(
        client.runs.stream(await new_thread(client), "chat", input=CHAT_INPUT, stream_mode=mode)
    )
    assert parts[0].event == "metadata"
    assert set(names(parts[1:])) == expected
    by_name: dict[str, list[Any]] = {}
    for part in parts:
        by_name.setdefault(part.event, []).append(part.data)
    if mode == "tasks":
        starts = [t for t in by_name["tasks"] if "input" in t]
        results = [t for t in by_name["tasks"] if "result" in t]
        assert starts[0]["name"] == "agent"
        assert {"id", "name", "input", "triggers"} <= set(starts[0])
        assert {"id", "name", "error", "result", "interrupts"} <= set(results[0])
    if mode == "checkpoints":
        last = by_name["checkpoints"][-1]
        assert {"config", "parent_config", "values", "metadata", "next", "tasks"} <= set(last)
        assert last["values"]["messages"][-1]["content"] == REPLY
    if mode == "debug":
        assert {d["type"] for d in by_name["debug"]} >= {"checkpoint", "task", "task_result"}
        assert all({"step", "timestamp", "type", "payload"} <= set(d) for d in by_name["debug"])
    if mode == "events":
        assert {e["event"] for e in by_name["events"]} >= {"on_chain_start", "on_chain_end"}
    if mode == "messages":
        # A streamed message only has partials (`messages/complete` is for messages that were not streamed).
        partial = by_name["messages/partial"]
        assert partial[-1][-1]["content"] == REPLY  # accumulated, not a delta
        assert partial[0][-1]["content"] != REPLY


async def test_subgraph_events_are_namespaced_and_interrupt_is_reported(stack: LiveStack) -> None:
    """Row 9."""
    client = stack.client()
    tid = await new_thread(client)
    parts = await collect(
        client.runs.stream(
            tid, "approver", input=CHAT_INPUT, stream_mode=["values", "updates"], stream_subgraphs=True
        )
    )
    nested = [p.event for p in parts if "|" in p.event]
    assert any(name.startswith("updates|tools:") for name in nested)
    assert any(name.startswith("values|tools:") for name in nested)
    assert all(len(name.split("|")) == 2 for name in nested)
    values = [p.data for p in parts if p.event == "values"]
    interrupt = values[-1]["__interrupt__"][0]
    assert interrupt["value"] == {"question": "approve?"}
    assert interrupt["id"]
    updates = [p.data for p in parts if p.event == "updates"]
    assert any("__interrupt__" in u for u in updates)


async def test_subgraph_events_are_absent_without_stream_subgraphs(stack: LiveStack) -> None:
    client = stack.client()
    parts = await collect(
        client.runs.stream(
            await new_thread(client), "approver", input=CHAT_INPUT, stream_mode=["values", "updates"]
        )
    )
    assert not [p.event for p in parts if "|" in p.event]


async def test_subgraph_messages_carry_their_namespace(stack: LiveStack) -> None:
    """§2.3: `messages|tools:<id>` with `langgraph_checkpoint_ns` naming the `tools` task."""
    client = stack.client()
    parts = await collect(
        client.runs.stream(
            await new_thread(client),
            "tooler",
            input=CHAT_INPUT,
            stream_mode=["messages-tuple"],
            stream_subgraphs=True,
        )
    )
    nested = [p for p in parts if p.event.startswith("messages|tools:")]
    assert nested
    assert all(p.data[1]["langgraph_checkpoint_ns"].startswith("tools:") for p in nested)


async def test_failing_run_streams_error_and_marks_statuses(stack: LiveStack) -> None:
    """Row 24."""
    client = stack.client()
    tid = await new_thread(client)
    created: list[dict[str, Any]] = []
    parts = await collect(client.runs.stream(tid, "failing", input={}, on_run_created=created.append))
    errors = [p.data for p in parts if p.event == "error"]
    assert errors == [{"error": "ValueError", "message": "kaboom"}]
    run = await client.runs.get(tid, created[0]["run_id"])  # written before the stream closed
    assert run["status"] == "error"
    thread = await client.threads.get(tid)
    assert thread["status"] == "error"
    assert thread["error"] == {"error": "ValueError", "message": "kaboom"}

    with pytest.raises(Exception, match="ValueError: kaboom"):
        await client.runs.wait(tid, "failing", input={})
    raw = await client.runs.wait(tid, "failing", input={}, raise_error=False)
    assert raw == {"__error__": {"error": "ValueError", "message": "kaboom"}}


async def test_stream_headers(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 32 (headers) and §2.1 framing."""
    tid = await new_thread(stack.client())
    body = {
        "assistant_id": "simple",
        "input": {"steps": []},
        "stream_mode": ["values"],
        "stream_resumable": True,
    }
    async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        content_location = response.headers["content-location"]
        assert content_location.startswith(f"/threads/{tid}/runs/")
        run_id = content_location.rsplit("/", 1)[1]
        assert is_uuid(run_id)
        assert response.headers["location"] == f"/threads/{tid}/runs/{run_id}/stream"
        raw = (await response.aread()).decode()
    blocks = [b for b in raw.replace("\r\n", "\n").split("\n\n") if b.strip()]
    for block in blocks:
        lines = block.split("\n")
        assert lines[0].startswith("event: ")
        data_lines = [line for line in lines if line.startswith("data: ")]
        assert len(data_lines) == 1
        json.loads(data_lines[0][len("data: ") :])
        assert any(line.startswith("id: ") for line in lines)  # resumable: every event has an id


async def test_heartbeats_while_idle(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 32 (heartbeat) and §1.4 /wait keep-alive newlines: both within about 5 s of silence."""
    client = stack.client()

    async def stream_comments() -> list[str]:
        tid = await new_thread(client)
        body = {"assistant_id": "slow", "input": slow_input(n=1, delay=6.0), "stream_mode": ["values"]}
        comments = []
        async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    comments.append(line)
        return comments

    async def wait_chunks() -> list[bytes]:
        tid = await new_thread(client)
        body = {"assistant_id": "slow", "input": slow_input(n=1, delay=6.0)}
        async with http.stream("POST", f"/threads/{tid}/runs/wait", json=body) as response:
            assert response.headers["content-type"].startswith("application/json")
            assert response.headers["location"].endswith("/join")
            chunks = [chunk async for chunk in response.aiter_raw()]
        return chunks

    started = time.monotonic()
    comments, chunks = await asyncio.gather(stream_comments(), wait_chunks())
    assert time.monotonic() - started < 15
    assert any("heartbeat" in c for c in comments)
    joined = b"".join(chunks)
    assert joined.startswith(b"\n")
    assert json.loads(joined)["ticks"] == [0]
