"""A spent budget pauses the deep agent before a model call, the main agent's or a subagent's, and a
resume goes on only once the budget port says it is no longer spent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.types import Command

from atrium_agents.deep_agent.budget import BUDGET_KEY
from tests.conftest import ALICE

SPENT = {"message": "The daily budget of your model usage (10 tokens) is spent.", "scope": "member",
         "period": "day", "metric": "tokens"}  # fmt: skip


class FakeBudget:
    """The runtime's port: spent from the check numbered `spent_from` on, until `raised`."""

    def __init__(self, spent_from: int) -> None:
        self.spent_from = spent_from
        self.checks = 0
        self.raised = False

    async def spent(self) -> Mapping[str, Any] | None:
        self.checks += 1
        return None if self.raised or self.checks < self.spent_from else SPENT


def _config(agent: Any, port: FakeBudget) -> dict[str, Any]:
    config = agent.config(ALICE, "t1")
    return {**config, "configurable": {**config["configurable"], BUDGET_KEY: port}}


async def test_a_subagents_model_call_pauses_on_a_spent_budget_until_it_is_raised(make_agent):
    # given a budget that is spent after the main agent's first model call
    agent = make_agent()
    port = FakeBudget(spent_from=2)
    config = _config(agent, port)

    # when the main agent delegates to the researcher subagent
    ask = {"messages": [{"role": "user", "content": "research tide tables"}]}
    result = await agent.graph.ainvoke(ask, config, context=agent.context(ALICE))

    # then the run pauses at the subagent's check, before its model call, saying why
    assert [i.value for i in result["__interrupt__"]] == [{"type": "budget_exceeded", **SPENT}]
    assert port.checks == 2
    assert (await agent.graph.aget_state(config)).next == ("tools",)

    # when resumed while still spent, then it pauses again with the same payload
    again = await agent.graph.ainvoke(Command(resume={}), config, context=agent.context(ALICE))
    assert [i.value for i in again["__interrupt__"]] == [{"type": "budget_exceeded", **SPENT}]

    # when resumed once the budget is raised, then the subagent and the main agent answer
    port.raised = True
    final = await agent.graph.ainvoke(Command(resume={}), config, context=agent.context(ALICE))
    assert "__interrupt__" not in final
    assert final["messages"][-1].type == "ai"
    assert final["messages"][-1].text


async def test_the_main_agents_first_model_call_pauses_and_no_port_means_no_check(make_agent):
    agent = make_agent()
    port = FakeBudget(spent_from=1)
    ask = {"messages": [{"role": "user", "content": "hello"}]}
    paused = await agent.graph.ainvoke(ask, _config(agent, port), context=agent.context(ALICE))
    assert [i.value["type"] for i in paused["__interrupt__"]] == ["budget_exceeded"]
    assert not [m for m in paused["messages"] if m.type == "ai"]

    # a graph run outside Atrium (no port) is not checked
    assert await agent.reply(ALICE, "t2", "hello") == "You said: hello"
