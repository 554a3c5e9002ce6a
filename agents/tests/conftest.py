"""Shared fixtures: the agent as the runtime would run it, on in-memory checkpoints and store.

No Django here: these tests exercise graphs exactly as LangGraph runs them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from langchain_core.messages import AnyMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.memory import InMemoryStore

from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.graph import graph_for
from atrium_agents.outbound import OUTBOUND_KEY


@dataclass(frozen=True)
class Person:
    user_id: str
    org_id: str = "acme"
    assistant_id: str = "helper"

    @property
    def ids(self) -> dict[str, str]:
        return {"user_id": self.user_id, "org_id": self.org_id, "assistant_id": self.assistant_id}


class OpenOutbound:
    """The runtime's outbound port as a deployment that allows private hosts and every port would give
    it (the loopback servers here stand in for outside hosts); the platform's guard itself is tested
    in the backend. ``addresses`` answers for names, as a DNS would."""

    def __init__(self, addresses: Mapping[str, str] | None = None, ports: frozenset[int] | None = None):
        self.addresses = dict(addresses or {})
        self.egress_ports = frozenset(range(1, 65536)) if ports is None else ports
        self.asked: list[tuple[str, int]] = []

    async def get(self, url: str, *, headers: Mapping[str, str], max_bytes: int) -> Mapping[str, Any]:
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
            response = await client.get(url, headers=dict(headers))
        return {"status": response.status_code, "text": response.text[:max_bytes], "truncated": False}

    def egress_address(self, host: str, port: int) -> str:
        self.asked.append((host, port))
        return self.addresses.get(host) or str(
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0]
        )


OPEN_OUTBOUND = OpenOutbound()
ALICE = Person("alice")
BOB = Person("bob")


@dataclass
class Agent:
    """A built agent with the checkpointer and store it runs on, and shortcuts for a turn."""

    graph: CompiledStateGraph[Any, Any, Any, Any]
    saver: InMemorySaver
    store: InMemoryStore
    settings: dict[str, Any] = field(default_factory=dict)

    def config(self, person: Person, thread: str) -> dict[str, Any]:
        # As the runtime does: ids in configurable *and* in context.
        return {"configurable": {"thread_id": thread, **person.ids, OUTBOUND_KEY: OPEN_OUTBOUND}}

    def context(self, person: Person) -> Context:
        return Context(**person.ids)

    async def say(self, person: Person, thread: str, text: Any) -> dict[str, Any]:
        payload = {"messages": [{"role": "user", "content": text}]} if isinstance(text, str) else text
        result: dict[str, Any] = await self.graph.ainvoke(
            payload, self.config(person, thread), context=self.context(person)
        )
        return result

    async def reply(self, person: Person, thread: str, text: Any) -> str:
        messages: list[AnyMessage] = (await self.say(person, thread, text))["messages"]
        return messages[-1].text


@pytest.fixture
def make_agent() -> Callable[..., Agent]:
    """Build the agent from settings the way the runtime does (the factory's cached build, then saver and
    store injected); tests of the async factory itself call ``make_graph``."""

    def build(**settings: Any) -> Agent:
        settings.setdefault("retry_initial_delay", 0.0)
        saver, store = InMemorySaver(), InMemoryStore()
        graph = graph_for({"configurable": settings}).copy({"checkpointer": saver, "store": store})
        return Agent(graph=graph, saver=saver, store=store, settings=settings)

    return build
