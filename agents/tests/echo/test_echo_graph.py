from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

from atrium_agents.echo.graph import graph


async def test_echoes_the_last_human_message():
    # when
    result = await graph.ainvoke({"messages": [{"role": "user", "content": "ping 42"}]})

    # then
    assert [(m.type, m.text) for m in result["messages"]] == [("human", "ping 42"), ("ai", "ping 42")]
    assert result["turns"] == 1
    assert result["pending"] == ""


async def test_runs_prepare_respond_finish_in_order():
    # when
    updates = [
        chunk
        async for chunk in graph.astream(
            {"messages": [{"role": "user", "content": "hi"}]}, stream_mode="updates"
        )
    ]

    # then
    assert [next(iter(update)) for update in updates] == ["prepare", "respond", "finish"]
    assert updates[0] == {"prepare": {"pending": "hi"}}


async def test_compiles_without_checkpointer_and_keeps_state_once_one_is_injected():
    # given: as the runtime does, a copy with its own checkpointer
    assert graph.checkpointer is None
    runnable = graph.copy({"checkpointer": InMemorySaver()})
    config = {"configurable": {"thread_id": "t-echo"}}

    # when
    await runnable.ainvoke({"messages": [{"role": "user", "content": "one"}]}, config)
    result = await runnable.ainvoke({"messages": [{"role": "user", "content": "two"}]}, config)

    # then
    assert [m.text for m in result["messages"]] == ["one", "one", "two", "two"]
    assert result["turns"] == 2


async def test_a_conversation_without_human_message_gets_an_empty_echo():
    # when
    result = await graph.ainvoke({"messages": []})

    # then
    assert [(m.type, m.text) for m in result["messages"]] == [("ai", "")]
