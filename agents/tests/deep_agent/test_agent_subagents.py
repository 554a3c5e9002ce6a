"""Subagents run through `task`, and their events stream under a `tools:<task_id>` namespace."""

from __future__ import annotations

from langchain_core.messages import AIMessage

from tests.conftest import ALICE


async def stream(agent, text):
    return [
        event
        async for event in agent.graph.astream(
            {"messages": [{"role": "user", "content": text}]},
            agent.config(ALICE, "t1"),
            context=agent.context(ALICE),
            stream_mode=["updates", "messages"],
            subgraphs=True,
        )
    ]


async def test_research_is_delegated_to_the_researcher_through_task(make_agent):
    # given
    agent = make_agent()

    # when
    result = await agent.say(ALICE, "t1", "research tide tables")

    # then
    [call] = [call for m in result["messages"] if isinstance(m, AIMessage) for call in m.tool_calls]
    assert (call["name"], call["args"]) == (
        "task",
        {"description": "tide tables", "subagent_type": "researcher"},
    )
    assert result["messages"][-1].text == "The subagent reports: You said: tide tables"


async def test_subagent_events_arrive_under_a_tools_namespace(make_agent):
    # given
    agent = make_agent()

    # when
    events = await stream(agent, "research tide tables")

    # then
    nested = [(namespace, mode, chunk) for namespace, mode, chunk in events if namespace]
    assert nested, "no subagent events were streamed"
    assert {namespace[0].split(":")[0] for namespace, _, _ in nested} == {"tools"}
    subagent_tokens = "".join(
        chunk[0].text for _, mode, chunk in nested if mode == "messages" and chunk[0].type == "AIMessageChunk"
    )
    assert subagent_tokens == "You said: tide tables"
    assert {mode for _, mode, _ in nested} == {"updates", "messages"}
    assert all(
        chunk[1]["langgraph_checkpoint_ns"].startswith("tools:")
        for _, mode, chunk in nested
        if mode == "messages"
    )


async def test_root_tokens_stream_outside_any_namespace(make_agent):
    # given
    agent = make_agent()

    # when
    events = await stream(agent, "hello there")

    # then
    root_tokens = [chunk[0] for namespace, mode, chunk in events if not namespace and mode == "messages"]
    assert [token.text for token in root_tokens] == ["You", " said:", " hello", " there"]
    assert root_tokens[-1].chunk_position == "last"
    assert len({token.id for token in root_tokens}) == 1
