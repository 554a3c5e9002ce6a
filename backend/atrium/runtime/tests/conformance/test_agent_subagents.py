"""The deep agent's subagents through the runtime: "research X" delegates to the `researcher`, whose
progress streams to the client as subgraph events under the `tools:<task id>` namespace."""

from __future__ import annotations

import re

from atrium.runtime.tests.conformance.agent_support import agent_assistant, reply
from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import collect, new_thread


async def test_research_streams_the_subagent_under_a_tools_namespace(stack: LiveStack) -> None:
    # given an assistant of the shipped agent
    client = stack.client()
    assistant_id = await agent_assistant(client)
    tid = await new_thread(client)

    # when the user asks it to research something, streaming subgraphs
    parts = await collect(
        client.runs.stream(
            tid,
            assistant_id,
            input={"messages": [{"type": "human", "content": "research tide tables"}]},
            stream_mode=["updates", "values"],
            stream_subgraphs=True,
        ),
        within=30,
    )

    # then the subagent's own steps arrive under `tools:<task id>`, and the root's do not
    events = [p.event for p in parts]
    assert "error" not in events
    sub = [e for e in events if "|" in e]
    assert sub
    assert all(re.fullmatch(r"(updates|values)\|tools:[0-9a-f-]+", e) for e in sub), sub
    assert any(e.startswith("updates|tools:") for e in sub)
    assert "values" in events
    assert "updates" in events
    # the subagent's answer came back to the root agent as the task's tool result
    final = [p.data for p in parts if p.event == "values"][-1]
    tool_results = [m for m in final["messages"] if m["type"] == "tool"]
    assert [m["name"] for m in tool_results] == ["task"]
    assert reply(final).startswith("The subagent reports:")
    assert (await client.threads.get(tid))["status"] == "idle"
