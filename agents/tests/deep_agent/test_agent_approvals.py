"""Tools listed in `interrupt_on` wait for a human: approve, edit or reject, then resume."""

from __future__ import annotations

from langgraph.types import Command

from tests.conftest import ALICE

USER_NOTES = ("org", "acme", "user", "alice", "memories")


async def pause_on_write(make_agent):
    agent = make_agent(interrupt_on=["write_file"], pii_rules=[{"type": "email"}])
    result = await agent.say(ALICE, "t1", "remember that standup is at nine")
    return agent, result


async def resume(agent, decision):
    # The runtime passes context again on every resume: LangGraph does not checkpoint it.
    return await agent.graph.ainvoke(
        Command(resume={"decisions": [decision]}), agent.config(ALICE, "t1"), context=agent.context(ALICE)
    )


async def test_a_sensitive_tool_pauses_with_its_call_for_review(make_agent):
    # when
    agent, result = await pause_on_write(make_agent)

    # then
    [interrupt] = result["__interrupt__"]
    assert interrupt.value["action_requests"][0]["name"] == "write_file"
    assert interrupt.value["action_requests"][0]["args"] == {
        "file_path": "/memories/notes.md",
        "content": "- standup is at nine\n",
    }
    assert interrupt.value["review_configs"] == [
        {"action_name": "write_file", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    state = await agent.graph.aget_state(agent.config(ALICE, "t1"))
    assert state.next == ("HumanInTheLoopMiddleware.after_model",)
    assert agent.store.get(USER_NOTES, "/notes.md") is None


async def test_approve_runs_the_call(make_agent):
    # given
    agent, _ = await pause_on_write(make_agent)

    # when
    result = await resume(agent, {"type": "approve"})

    # then
    assert result["messages"][-1].text == "I will remember that standup is at nine."
    assert agent.store.get(USER_NOTES, "/notes.md").value["content"] == "- standup is at nine\n"


async def test_edit_runs_the_edited_call(make_agent):
    # given
    agent, _ = await pause_on_write(make_agent)
    edited = {
        "name": "write_file",
        "args": {"file_path": "/memories/notes.md", "content": "- standup is at ten\n"},
    }

    # when
    result = await resume(agent, {"type": "edit", "edited_action": edited})

    # then
    assert result["messages"][-1].text == "I will remember that standup is at nine."
    assert agent.store.get(USER_NOTES, "/notes.md").value["content"] == "- standup is at ten\n"


async def test_an_edit_is_scrubbed_like_any_input(make_agent):
    # given
    agent, _ = await pause_on_write(make_agent)
    edited = {
        "name": "write_file",
        "args": {"file_path": "/memories/notes.md", "content": "- ask bob@example.com\n"},
    }

    # when
    await resume(agent, {"type": "edit", "edited_action": edited})

    # then
    assert agent.store.get(USER_NOTES, "/notes.md").value["content"] == "- ask [REDACTED_EMAIL]\n"
    assert not any(b"bob@example.com" in data for _kind, data in agent.saver.blobs.values())


async def test_reject_skips_the_call_and_tells_the_model_why(make_agent):
    # given
    agent, _ = await pause_on_write(make_agent)

    # when
    result = await resume(agent, {"type": "reject", "message": "not now"})

    # then
    rejection = result["messages"][-2]
    assert (rejection.type, rejection.status) == ("tool", "error")
    assert rejection.text == "User rejected the tool call for `write_file` with reason: not now"
    assert result["messages"][-1].text == f"I could not save that: {rejection.text}"
    assert agent.store.get(USER_NOTES, "/notes.md") is None
    state = await agent.graph.aget_state(agent.config(ALICE, "t1"))
    assert state.next == ()
