"""Call limits stop a runaway agent through the runtime: "loop forever" makes the offline model call
`ls` after every result, and only the assistant's limit ends the run, promptly and successfully, with
the message the agent documents (agents/README.md, Settings)."""

from __future__ import annotations

import time

import pytest
from langgraph_sdk.client import LangGraphClient

from atrium.runtime.tests.conformance.agent_support import agent_assistant, reply
from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import new_thread


async def _loop_forever(client: LangGraphClient, assistant_id: str) -> tuple[str, dict, float]:
    tid = await new_thread(client)
    started = time.monotonic()
    values = await client.runs.wait(
        tid, assistant_id, input={"messages": [{"type": "human", "content": "loop forever"}]}
    )
    assert isinstance(values, dict)
    return tid, values, time.monotonic() - started


@pytest.mark.parametrize(
    ("settings", "message", "tool_calls", "counts"),
    [
        (
            {"tool_call_limit_per_run": 3, "model_call_limit_per_run": None},
            "Tool call limit reached: run limit exceeded (4/3 calls).",
            4,
            {"tool_calls": 4},
        ),
        (
            {"model_call_limit_per_run": 3, "tool_call_limit_per_run": None},
            "Model call limits exceeded: run limit (3/3)",
            3,
            {"model_calls": 3},
        ),
    ],
    ids=["tool-calls", "model-calls"],
)
async def test_a_call_limit_ends_a_runaway_loop(
    stack: LiveStack, settings: dict, message: str, tool_calls: int, counts: dict
) -> None:
    # given an assistant with a small call limit
    client = stack.client()
    assistant_id = await agent_assistant(client, **settings)

    # when the agent is asked to loop forever
    tid, values, took = await _loop_forever(client, assistant_id)

    # then the run ends (successfully, within seconds) with the limit's message
    assert took < 15
    assert reply(values) == message
    calls = [c for m in values["messages"] if m["type"] == "ai" for c in m.get("tool_calls") or []]
    assert [c["name"] for c in calls] == ["ls"] * tool_calls
    runs = await client.runs.list(tid)
    assert [r["status"] for r in runs] == ["success"]
    # and the run shows what the limit counted
    assert runs[0]["call_counts"] == counts
    assert (await client.threads.get(tid))["status"] == "idle"
