from __future__ import annotations

import pytest

from atrium_agents.deep_agent.memory import MissingScopeError, Scope, org_namespace
from tests.conftest import ALICE, BOB, Person


def notes(agent, namespace):
    item = agent.store.get(namespace, "/notes.md")
    return None if item is None else item.value["content"]


async def test_user_memory_follows_its_user_across_threads_and_no_one_else(make_agent):
    # given
    agent = make_agent()
    await agent.say(ALICE, "alice-1", "remember that I take my tea black")

    # when
    alice_later = await agent.reply(ALICE, "alice-2", "what do you remember")
    bob = await agent.reply(BOB, "bob-1", "what do you remember")

    # then
    assert alice_later == "Here is what I remember:\n- I take my tea black"
    assert bob == "I do not remember anything yet."
    assert notes(agent, ("org", "acme", "user", "alice", "memories")) == "- I take my tea black\n"
    assert notes(agent, ("org", "acme", "user", "bob", "memories")) is None


async def test_the_same_user_id_in_another_org_has_other_memories(make_agent):
    # given
    agent = make_agent()
    alice_elsewhere = Person("alice", org_id="globex")
    await agent.say(ALICE, "t1", "remember that acme ships on fridays")

    # when
    reply = await agent.reply(alice_elsewhere, "t2", "what do you remember")

    # then
    assert reply == "I do not remember anything yet."


async def test_assistant_memory_is_shared_by_the_assistants_users(make_agent):
    # given
    agent = make_agent()
    await agent.say(ALICE, "alice-1", "remember for this assistant that invoices go to finance")

    # when
    bob = await agent.reply(BOB, "bob-1", "what does this assistant remember")
    other_assistant = await agent.reply(
        Person("bob", assistant_id="other"), "bob-2", "what does this assistant remember"
    )

    # then
    assert bob == "Here is what I remember:\n- invoices go to finance"
    assert other_assistant == "I do not remember anything yet."
    assert notes(agent, ("org", "acme", "assistant", "helper", "memories")) == "- invoices go to finance\n"


async def test_org_memory_is_readable_but_not_writable(make_agent):
    # given: notes an org admin curated through the store
    agent = make_agent()
    namespace = org_namespace(Scope(user_id="alice", org_id="acme", assistant_id="helper"))
    agent.store.put(namespace, "/notes.md", {"content": "- expenses need receipts\n", "encoding": "utf-8"})

    # when
    read = await agent.reply(ALICE, "t1", "what does the org remember")
    write = await agent.reply(ALICE, "t2", "remember for the org that receipts are optional")

    # then
    assert read == "Here is what I remember:\n- expenses need receipts"
    assert write == "I could not save that: Error: permission denied for write on /memories/org/notes.md"
    assert notes(agent, namespace) == "- expenses need receipts\n"


async def test_a_scope_switched_off_cannot_be_read(make_agent):
    # given
    agent = make_agent(org_memory="off")
    agent.store.put(("org", "acme", "memories"), "/notes.md", {"content": "- secret\n", "encoding": "utf-8"})

    # when
    reply = await agent.reply(ALICE, "t1", "what does the org remember")

    # then
    assert reply == "I do not remember anything yet."
    last_tool = [
        m
        for m in (await agent.graph.aget_state(agent.config(ALICE, "t1"))).values["messages"]
        if m.type == "tool"
    ][-1]
    assert last_tool.text == "Error: permission denied for read on /memories/org/notes.md"


async def test_read_only_user_memory_refuses_writes_but_assistant_memory_still_takes_them(make_agent):
    # given
    agent = make_agent(user_memory="read_only")

    # when
    user = await agent.reply(ALICE, "t1", "remember that I am left-handed")
    assistant = await agent.reply(ALICE, "t2", "remember for this assistant that we use metric units")

    # then
    assert user == "I could not save that: Error: permission denied for write on /memories/notes.md"
    assert assistant == "I will remember that we use metric units."


async def test_ids_in_configurable_alone_are_enough(make_agent):
    # given: a resume that forgot to pass context again
    agent = make_agent()
    config = agent.config(ALICE, "t1")

    # when
    result = await agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": "remember that a=1"}]}, config
    )

    # then
    assert result["messages"][-1].text == "I will remember that a=1."
    assert notes(agent, ("org", "acme", "user", "alice", "memories")) == "- a=1\n"


async def test_memory_fails_closed_without_an_org(make_agent):
    # given
    agent = make_agent()
    config = {"configurable": {"thread_id": "t1", "user_id": "alice", "assistant_id": "helper"}}

    # when / then
    with pytest.raises(MissingScopeError, match="org_id is required"):
        await agent.graph.ainvoke({"messages": [{"role": "user", "content": "what do you remember"}]}, config)
    assert agent.store.search(()) == []


async def test_ids_that_a_namespace_cannot_hold_are_refused(make_agent):
    # given
    agent = make_agent()

    # when / then
    with pytest.raises(MissingScopeError, match="cannot hold"):
        await agent.say(Person("alice/../bob"), "t1", "what do you remember")
