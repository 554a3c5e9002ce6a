"""PII never reaches a checkpoint raw: every stored checkpoint, write and blob is searched."""

from __future__ import annotations

import hashlib

import pytest
from langchain.agents.middleware import ModelResponse
from langchain.agents.middleware.pii import PIIDetectionError
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from atrium_agents.deep_agent.pii import PIIGuardMiddleware, PIISafeGraph, Redactor
from tests.conftest import ALICE

EMAIL = "alice@example.com"
EMAIL_RULES = [{"type": "email"}]


def persisted(saver: InMemorySaver) -> tuple[bytes, str]:
    """Everything the saver holds: raw serialized bytes, and the decoded values' repr."""
    typed = []
    for namespaces in saver.storage.values():
        for checkpoints in namespaces.values():
            for checkpoint, metadata, _parent in checkpoints.values():
                typed += [checkpoint, metadata]
    typed += [
        value for writes in saver.writes.values() for (_task, _channel, value, _path) in writes.values()
    ]
    typed += list(saver.blobs.values())
    raw = b"".join(data for _kind, data in typed)
    decoded = "".join(repr(saver.serde.loads_typed(item)) for item in typed if item[0] != "empty")
    return raw, decoded


def assert_never_persisted(saver: InMemorySaver, secret: str) -> None:
    raw, decoded = persisted(saver)
    assert raw, "nothing was checkpointed: the test would prove nothing"
    assert secret.encode() not in raw
    assert secret not in decoded


async def test_raw_input_is_in_checkpoints_when_no_rule_asks_otherwise(make_agent):
    # given: the control case, showing the search below does find text when it is there
    agent = make_agent()

    # when
    await agent.say(ALICE, "t1", f"my email is {EMAIL}")

    # then
    raw, decoded = persisted(agent.saver)
    assert EMAIL.encode() in raw
    assert EMAIL in decoded


async def test_redacted_input_never_reaches_any_checkpoint(make_agent):
    # given
    agent = make_agent(pii_rules=EMAIL_RULES)

    # when
    reply = await agent.reply(ALICE, "t1", f"my email is {EMAIL}")

    # then
    assert reply == "You said: my email is [REDACTED_EMAIL]"
    assert_never_persisted(agent.saver, EMAIL)
    history = [snapshot async for snapshot in agent.graph.aget_state_history(agent.config(ALICE, "t1"))]
    assert len(history) > 5
    assert all(EMAIL not in repr(snapshot) for snapshot in history)


async def test_astream_events_never_carries_the_raw_input(make_agent):
    # given
    agent = make_agent(pii_rules=EMAIL_RULES)

    # when
    events = [
        event
        async for event in agent.graph.astream_events(
            {"messages": [{"role": "user", "content": f"hi {EMAIL}"}]},
            agent.config(ALICE, "t1"),
            context=agent.context(ALICE),
            version="v2",
        )
    ]

    # then
    assert events[0]["event"] == "on_chain_start"
    assert events[0]["data"]["input"] == {"messages": [{"role": "user", "content": "hi [REDACTED_EMAIL]"}]}
    assert all(EMAIL not in repr(event) for event in events)
    assert_never_persisted(agent.saver, EMAIL)


async def test_tool_results_are_scrubbed_before_the_tool_node_writes_them(make_agent):
    # given: a memory file stored raw, outside the agent's control
    agent = make_agent(pii_rules=EMAIL_RULES)
    agent.store.put(
        ("org", "acme", "user", "alice", "memories"),
        "/notes.md",
        {"content": f"- mail {EMAIL}\n", "encoding": "utf-8"},
    )

    # when
    reply = await agent.reply(ALICE, "t1", "what do you remember")

    # then
    assert reply == "Here is what I remember:\n- mail [REDACTED_EMAIL]"
    assert_never_persisted(agent.saver, EMAIL)


async def test_subagent_checkpoints_are_clean_too(make_agent):
    # given
    agent = make_agent(pii_rules=EMAIL_RULES)

    # when
    reply = await agent.reply(ALICE, "t1", f"research who owns {EMAIL}")

    # then
    assert reply == "The subagent reports: You said: who owns [REDACTED_EMAIL]"
    namespaces = {ns for threads in agent.saver.storage.values() for ns in threads}
    assert sorted(ns.split(":")[0] for ns in namespaces) == ["", "tools"]  # the subagent's own checkpoints
    assert_never_persisted(agent.saver, EMAIL)


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ({"type": "credit_card", "strategy": "mask"}, "card 4111 1111 1111 1111", "card **** **** **** 1111"),
        (
            {"type": "email", "strategy": "hash"},
            f"mail {EMAIL}",
            f"mail <email_hash:{hashlib.sha256(EMAIL.encode()).hexdigest()[:8]}>",
        ),
        ({"type": "employee_id", "pattern": r"EMP-\d{6}"}, "I am EMP-123456", "I am [REDACTED_EMPLOYEE_ID]"),
    ],
)
async def test_strategies_and_custom_detectors(make_agent, rule, text, expected):
    # given
    agent = make_agent(pii_rules=[rule])

    # when
    reply = await agent.reply(ALICE, "t1", text)

    # then
    assert reply == f"You said: {expected}"


async def test_block_refuses_the_run_before_anything_is_stored(make_agent):
    # given
    agent = make_agent(pii_rules=[{"type": "email", "strategy": "block"}])

    # when / then
    with pytest.raises(PIIDetectionError):
        await agent.say(ALICE, "t1", f"my email is {EMAIL}")
    assert dict(agent.saver.storage) == {}
    assert agent.saver.writes == {}


async def test_state_updates_are_scrubbed_like_input(make_agent):
    # given
    agent = make_agent(pii_rules=EMAIL_RULES)
    config = agent.config(ALICE, "t1")
    await agent.say(ALICE, "t1", "hello")

    # when: e.g. a client editing the thread's state through the API
    await agent.graph.aupdate_state(config, {"messages": [HumanMessage(f"patched {EMAIL}")]})

    # then
    state = await agent.graph.aget_state(config)
    assert state.values["messages"][-1].text == "patched [REDACTED_EMAIL]"
    assert_never_persisted(agent.saver, EMAIL)


def test_the_runtime_copy_keeps_the_boundary(make_agent):
    # given
    agent = make_agent(pii_rules=EMAIL_RULES)

    # then: `copy` (how checkpointers are injected) and `with_config` keep the class
    assert isinstance(agent.graph, PIISafeGraph)
    assert isinstance(agent.graph.with_config(recursion_limit=5), PIISafeGraph)
    assert isinstance(make_agent().graph, PIISafeGraph) is False


def test_scrub_input_rewrites_a_request_as_the_graph_stores_it(make_agent):
    # given
    agent = make_agent(pii_rules=EMAIL_RULES)
    request = {"messages": [{"type": "human", "content": f"mail {EMAIL}"}]}

    # when
    scrubbed = agent.graph.scrub_input(request)

    # then: what a runtime keeps of the request is what the checkpoints keep
    assert scrubbed == {"messages": [{"type": "human", "content": "mail [REDACTED_EMAIL]"}]}
    assert request["messages"][0]["content"] == f"mail {EMAIL}"


async def test_guard_scrubs_model_replies_and_tool_call_arguments():
    # given: a model that produces personal data on its own
    guard = PIIGuardMiddleware(Redactor(EMAIL_RULES))
    reply = AIMessage(
        f"I will write to {EMAIL}",
        tool_calls=[{"name": "send", "args": {"to": EMAIL, "cc": [EMAIL]}, "id": "c1", "type": "tool_call"}],
    )

    async def model(_request):
        return ModelResponse(result=[reply])

    class Request:
        messages: list = []

        def override(self, **_changes):
            return self

    # when
    response = await guard.awrap_model_call(Request(), model)

    # then
    message = response.result[0]
    assert message.text == "I will write to [REDACTED_EMAIL]"
    assert message.tool_calls[0]["args"] == {"to": "[REDACTED_EMAIL]", "cc": ["[REDACTED_EMAIL]"]}
    assert message.id == reply.id


async def test_guard_scrubs_tool_messages():
    # given
    guard = PIIGuardMiddleware(Redactor(EMAIL_RULES))

    async def tool(_request):
        return ToolMessage(f"owner: {EMAIL}", tool_call_id="c1", name="lookup")

    # when
    result = await guard.awrap_tool_call(None, tool)

    # then
    assert result.text == "owner: [REDACTED_EMAIL]"
    assert result.tool_call_id == "c1"
