"""The graphs Atrium ships (`agents/langgraph.json`), served by the same live stack: `echo` and the
deep `agent` on its offline model, including a subagent streamed under `tools:`."""

from __future__ import annotations

import json
from pathlib import Path

from atrium.runtime.tests.conformance.helpers import collect, last_message, new_thread
from atrium.runtime.tests.live_stack import GRAPHS_FILE, LiveStack

AGENTS_FILE = Path(__file__).resolve().parents[5] / "agents" / "langgraph.json"


def test_fixture_file_serves_the_shipped_graphs() -> None:
    """The fixture `langgraph.json` names `echo` and `agent` by the very files `agents/langgraph.json`
    names, so these tests run the shipped graphs."""
    shipped = json.loads(AGENTS_FILE.read_text())["graphs"]
    fixture = json.loads(GRAPHS_FILE.read_text())["graphs"]
    for graph_id in ("echo", "agent"):
        shipped_path = (AGENTS_FILE.parent / shipped[graph_id].rsplit(":", 1)[0]).resolve()
        fixture_path = (GRAPHS_FILE.parent / fixture[graph_id].rsplit(":", 1)[0]).resolve()
        assert fixture_path == shipped_path
        assert fixture[graph_id].rsplit(":", 1)[1] == shipped[graph_id].rsplit(":", 1)[1]
    assert set(shipped) <= set(fixture)


async def test_echo(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    result = await client.runs.wait(tid, "echo", input={"messages": [{"type": "human", "content": "ping"}]})
    assert last_message(result)["content"] == "ping"
    assert result["turns"] == 1
    again = await client.runs.wait(tid, "echo", input={"messages": [{"type": "human", "content": "pong"}]})
    assert last_message(again)["content"] == "pong"
    assert again["turns"] == 2


async def test_deep_agent_streams_and_delegates(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    parts = await collect(
        client.runs.stream(
            tid,
            "agent",
            input={"messages": [{"type": "human", "content": "research tide tables"}]},
            stream_mode=["values", "messages-tuple", "updates"],
            stream_subgraphs=True,
        ),
        within=60,
    )
    assert "error" not in [p.event for p in parts]
    assert any(p.event.startswith("messages|tools:") for p in parts)
    final = [p.data for p in parts if p.event == "values"][-1]
    assert any(m["type"] == "tool" for m in final["messages"])
    assert final["messages"][-1]["type"] == "ai"
    assert (await client.threads.get(tid))["status"] == "idle"
