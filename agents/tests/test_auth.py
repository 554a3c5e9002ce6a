"""Agent auth without the platform: a fake credentials port, a real graph and checkpointer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from atrium_agents.auth import (
    CONSENT_INTERRUPT,
    CREDENTIALS_KEY,
    NoCredentialsError,
    OAuthRequirement,
    provider_token,
)

TOKEN = "tok-never-in-state"


class FakePort:
    """Answers consent until `connected`, then the token; records what tools asked for."""

    def __init__(self) -> None:
        self.connected = False
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]:
        self.asked.append((provider, tuple(scopes)))
        if self.connected:
            return {"access_token": TOKEN, "token_type": "bearer"}
        return {"consent": {"provider": provider, "authorization_url": "https://idp.example/authorize?x=1"}}


class State(TypedDict, total=False):
    header: str


async def _use(state: State, config: RunnableConfig) -> dict[str, Any]:
    token = await provider_token(config, OAuthRequirement("github", ("repo",)))
    return {"header": token.authorization().split(" ")[0]}  # the scheme only: tokens stay out of state


def _graph() -> Any:
    builder = StateGraph(State)
    builder.add_node("use", _use)
    builder.add_edge(START, "use")
    builder.add_edge("use", END)
    return builder.compile(checkpointer=InMemorySaver())


async def test_no_grant_interrupts_with_the_consent_and_resume_gets_the_token():
    # given a user without a grant
    port, graph = FakePort(), _graph()
    config: RunnableConfig = {"configurable": {"thread_id": "t", CREDENTIALS_KEY: port}}
    # when the tool runs, the run interrupts with the consent request
    await graph.ainvoke({}, config)
    snapshot = await graph.aget_state(config)
    (pending,) = snapshot.interrupts
    assert pending.value == {
        "type": CONSENT_INTERRUPT,
        "provider": "github",
        "authorization_url": "https://idp.example/authorize?x=1",
    }
    # and once the user has consented, resuming runs the tool again with a token
    port.connected = True
    result = await graph.ainvoke(Command(resume={pending.id: {"connected": True}}), config)
    assert result == {"header": "Bearer"}
    assert port.asked == [("github", ("repo",))] * 2
    # and the token is in no checkpoint
    history = [s async for s in graph.aget_state_history(config)]
    assert TOKEN not in repr([(s.values, s.metadata, s.tasks) for s in history])


async def test_a_runtime_without_credentials_says_so():
    graph = _graph()
    with pytest.raises(NoCredentialsError):
        await graph.ainvoke({}, {"configurable": {"thread_id": "t2"}})
