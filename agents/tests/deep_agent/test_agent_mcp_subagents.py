"""Subagents get the assistant's MCP tools, under the main agent's rules: a task delegated to the
general-purpose subagent or the researcher can call an MCP server's tool, with the run's user's token
(no grant: the whole run asks for consent and resumes), and only through the runtime's outbound port.

The MCP server is the real one the backend's MCP tests use (the ``mcp`` SDK's server on loopback,
streamable HTTP, behind a bearer token); the runtime's ports are small fakes, as in test_auth.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx2
import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.types import Command

from atrium_agents.auth import CONSENT_INTERRUPT, CREDENTIALS_KEY
from atrium_agents.deep_agent import mcp
from atrium_agents.deep_agent.mcp import MCP_KEY
from atrium_agents.outbound import OUTBOUND_KEY
from atrium_agents.testing.mcp_server import ORDERS, LoopbackMcpServer
from tests.conftest import ALICE, OPEN_OUTBOUND

TOKEN = "alice-orders-token"
ANSWER = ORDERS["A-17"]


class Credentials:
    """The runtime's credentials port: Alice's token once she has connected the provider."""

    def __init__(self, *, connected: bool = True) -> None:
        self.connected = connected

    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]:
        if self.connected:
            return {"access_token": TOKEN, "token_type": "Bearer"}
        return {"consent": {"provider": provider, "authorization_url": "https://idp.example/authorize"}}


class Servers:
    """The runtime's MCP port: the one server the assistant names, behind the `orders` provider."""

    def __init__(self, server: LoopbackMcpServer) -> None:
        self.server = server

    async def servers(self, names: Sequence[str]) -> Mapping[str, Any]:
        assert list(names) == ["orders"]
        spec = {
            "id": "s1", "name": "orders", "transport": "streamable_http", "url": self.server.url,
            "command": [], "provider": "orders", "scopes": [], "partition": f"s1:{ALICE.user_id}",
        }  # fmt: skip
        return {"servers": [spec], "refused": [], "ttl_seconds": 60}


class Outbound:
    """The runtime's outbound port as far as MCP goes: a transport per connection, counted; one that
    refuses stands in for the guard refusing the server's address."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.transports = 0
        self.egress_ports = OPEN_OUTBOUND.egress_ports

    def mcp_transport(self) -> httpx2.AsyncBaseTransport:
        self.transports += 1
        return _Refused() if self.refuse else httpx2.AsyncHTTPTransport()


class _Refused(httpx2.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError(f"refused: {request.url.host} is in the platform's network")


@pytest.fixture
def server() -> Iterator[LoopbackMcpServer]:
    mcp.forget_listings()
    started = LoopbackMcpServer(accepts=lambda token: token == TOKEN).start()
    yield started
    started.stop()
    mcp.forget_listings()


def run_config(agent: Any, server: LoopbackMcpServer, *, credentials: Credentials, outbound: Outbound) -> Any:
    config = agent.config(ALICE, "t1")
    config["configurable"] |= {MCP_KEY: Servers(server), CREDENTIALS_KEY: credentials, OUTBOUND_KEY: outbound}
    return config


def tool_calls(messages: Sequence[Any]) -> list[str]:
    return [call["name"] for m in messages if isinstance(m, AIMessage) for call in m.tool_calls]


@pytest.mark.parametrize(("verb", "subagent"), [("delegate", "general-purpose"), ("research", "researcher")])
async def test_a_subagent_calls_an_mcp_tool_with_the_users_token(make_agent, server, verb, subagent):
    # given an assistant with the server's tools, and Alice, who has connected its provider
    agent = make_agent(mcp_servers=["orders"])
    outbound = Outbound()
    config = run_config(agent, server, credentials=Credentials(), outbound=outbound)

    # when she hands a subagent a task that needs the server's tool
    result = await agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": f"{verb} use the lookup_order tool for A-17"}]},
        config,
        context=agent.context(ALICE),
    )

    # then the main agent delegated it, the subagent called the tool, and its answer came back
    assert tool_calls(result["messages"]) == ["task"]
    [task] = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert task.text == f"lookup_order returned:\n{ANSWER}"
    assert result["messages"][-1].text == f"The subagent reports: lookup_order returned:\n{ANSWER}"
    assert result["messages"][1].tool_calls[0]["args"]["subagent_type"] == subagent
    # with her token, on every request, through the runtime's outbound port only
    assert set(server.authorizations) == {f"Bearer {TOKEN}"}
    assert outbound.transports > 0
    # and the token is in no checkpoint
    history = [s async for s in agent.graph.aget_state_history(config)]
    assert TOKEN not in repr([(s.values, s.metadata, s.tasks) for s in history])
    assert all(TOKEN not in repr(item) for item in agent.saver.storage.values())


async def test_without_a_grant_the_subagents_call_asks_for_consent_and_resumes(make_agent, server):
    # given Alice, who has not connected the provider
    agent = make_agent(mcp_servers=["orders"])
    credentials = Credentials(connected=False)
    config = run_config(agent, server, credentials=credentials, outbound=Outbound())

    # when a subagent needs the server's tools
    result = await agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": "delegate use the lookup_order tool for A-17"}]},
        config,
        context=agent.context(ALICE),
    )

    # then the run pauses with the consent request, the server untouched
    [pending] = result["__interrupt__"]
    assert pending.value == {
        "type": CONSENT_INTERRUPT,
        "provider": "orders",
        "authorization_url": "https://idp.example/authorize",
    }
    assert server.authorizations == []

    # and once she has connected it, the resumed run finishes the subagent's task with her token
    credentials.connected = True
    result = await agent.graph.ainvoke(
        Command(resume={pending.id: {"connected": True}}), config, context=agent.context(ALICE)
    )
    assert result["messages"][-1].text == f"The subagent reports: lookup_order returned:\n{ANSWER}"
    assert set(server.authorizations) == {f"Bearer {TOKEN}"}


async def test_a_server_the_outbound_guard_refuses_gives_the_subagent_no_tools(make_agent, server):
    # given an MCP server whose address the runtime's guard refuses
    agent = make_agent(mcp_servers=["orders"])
    outbound = Outbound(refuse=True)
    config = run_config(agent, server, credentials=Credentials(), outbound=outbound)

    # when a subagent is asked to use its tool
    result = await agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": "delegate use the lookup_order tool for A-17"}]},
        config,
        context=agent.context(ALICE),
    )

    # then the subagent went through the guard, was refused, and had no such tool to call
    assert outbound.transports > 0
    assert server.authorizations == []
    assert result["messages"][-1].text == "The subagent reports: You said: use the lookup_order tool for A-17"
