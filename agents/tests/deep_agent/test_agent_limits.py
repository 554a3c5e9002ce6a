from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage

from atrium_agents.deep_agent.context import Context
from atrium_agents.models.offline import OfflineModelUnavailableError
from tests.conftest import ALICE


def ls_calls(messages):
    return [
        call for m in messages if isinstance(m, AIMessage) for call in m.tool_calls if call["name"] == "ls"
    ]


async def test_model_call_limit_per_run_stops_a_runaway_loop(make_agent):
    # given
    agent = make_agent(model_call_limit_per_run=3, tool_call_limit_per_run=None)

    # when
    result = await agent.say(ALICE, "t1", "loop forever")

    # then
    assert result["messages"][-1].text == "Model call limits exceeded: run limit (3/3)"
    assert len(ls_calls(result["messages"])) == 3


async def test_model_call_limit_per_thread_counts_across_runs(make_agent):
    # given
    agent = make_agent(
        model_call_limit_per_run=2, model_call_limit_per_thread=3, tool_call_limit_per_run=None
    )
    await agent.say(ALICE, "t1", "loop forever")

    # when
    result = await agent.say(ALICE, "t1", "loop forever")

    # then
    assert result["messages"][-1].text == "Model call limits exceeded: thread limit (3/3)"
    assert len(ls_calls(result["messages"])) == 3


async def test_tool_call_limit_per_run_ends_the_run_without_running_the_extra_call(make_agent):
    # given
    agent = make_agent(model_call_limit_per_run=None, tool_call_limit_per_run=2)

    # when
    result = await agent.say(ALICE, "t1", "loop forever")

    # then
    tool_results = [m for m in result["messages"] if m.type == "tool"]
    assert len(ls_calls(result["messages"])) == 3
    assert [m.status for m in tool_results] == ["success", "success", "error"]
    assert tool_results[-1].text == "Tool call limit exceeded. Do not make additional tool calls."
    assert result["messages"][-1].text == "Tool call limit reached: run limit exceeded (3/2 calls)."


async def test_model_retry_rides_out_a_transient_failure(make_agent):
    # given
    agent = make_agent(model="offline:flaky", model_max_retries=1)

    # when
    reply = await agent.reply(ALICE, "t1", "hello")

    # then
    assert reply == "You said: hello"


async def test_fallback_model_answers_when_the_model_stays_down(make_agent):
    # given
    agent = make_agent(model="offline:unavailable", fallback_model="offline", model_max_retries=1)

    # when
    reply = await agent.reply(ALICE, "t1", "hello")

    # then
    assert reply == "You said: hello"


async def test_without_fallback_a_model_that_stays_down_fails_the_run(make_agent):
    # given
    agent = make_agent(model="offline:unavailable", model_max_retries=1)

    # when / then
    with pytest.raises(OfflineModelUnavailableError):
        await agent.say(ALICE, "t1", "hello")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model_call_limit_per_run": 5, "model_call_limit_per_thread": 4}, "exceeds the limit per thread"),
        ({"tool_call_limit_per_run": 0}, "must be positive"),
        ({"model": "gpt-4.1"}, "provider:model"),
        ({"pii_rules": [{"type": "passport"}]}, "needs a 'pattern'"),
        ({"pii_rules": [{"type": "email", "strategy": "shred"}]}, "unknown PII strategy"),
        ({"org_memory": "read_write"}, "org_memory must be one of"),
    ],
)
def test_invalid_settings_are_refused_when_built(settings, message):
    with pytest.raises(ValueError, match=message):
        Context(**settings)


def test_settings_from_configurable_ignore_platform_keys_and_keep_explicit_unlimited():
    # when
    settings = Context.from_mapping(
        {
            "thread_id": "t1",
            "run_id": "r1",
            "model_call_limit_per_run": None,
            "system_prompt": None,
            "user_id": "u",
        }
    )

    # then
    assert settings.model_call_limit_per_run is None
    assert settings.system_prompt == Context().system_prompt
    assert settings.user_id == "u"
