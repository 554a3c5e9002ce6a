"""An MCP server's calls go through the platform's outbound guard at run time, whatever was saved:
a server whose URL points into the platform's network (registered while the operator allowed it,
or a name that resolves inwards) gets no request and no user's token once the deployment refuses
private hosts; its tools are simply unavailable and the run goes on."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from atrium.core import http
from atrium.runtime.outbound_port import RuntimeOutbound
from atrium_agents.auth import CREDENTIALS_KEY
from atrium_agents.deep_agent import mcp
from atrium_agents.outbound import OUTBOUND_KEY
from atrium_agents.testing.mcp_server import LoopbackMcpServer

TOKEN = "user-token-for-the-mcp-server"


class _Credentials:
    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]:
        return {"access_token": TOKEN, "token_type": "Bearer"}


@pytest.fixture
def server() -> Iterator[LoopbackMcpServer]:
    started = LoopbackMcpServer().start()
    yield started
    started.stop()


def _spec(url: str) -> dict[str, Any]:
    return {
        "id": "s1", "name": "orders", "transport": "streamable_http", "url": url, "command": [],
        "provider": "crm", "scopes": [], "partition": f"s1:{url}",
    }  # fmt: skip


async def _list(url: str) -> list[mcp.ToolSpec] | None:
    config: Any = {
        "configurable": {CREDENTIALS_KEY: _Credentials(), OUTBOUND_KEY: RuntimeOutbound.from_settings()}
    }
    mcp.forget_listings()
    endpoint = await mcp._endpoint(config, _spec(url))
    return await mcp._listing(endpoint, ttl=60)


async def test_a_server_on_the_platforms_network_gets_no_request_and_no_token(
    server: LoopbackMcpServer, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the deployment refuses private hosts
    settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = False
    # when the run lists the tools of servers that point inwards (by literal, by name, by NAT64)
    by_literal = await _list(server.url)
    by_name = await _list(f"http://localhost:{server.port}/mcp")
    monkeypatch.setattr(http, "lookup", lambda host, p: [ipaddress.ip_address("64:ff9b::7f00:1")])
    by_nat64 = await _list(f"http://orders.example:{server.port}/mcp")
    # then nothing reached the server: no request, no token; the tools are unavailable
    assert (by_literal, by_name, by_nat64) == (None, None, None)
    assert server.authorizations == []


async def test_the_operator_may_allow_private_mcp_hosts(server: LoopbackMcpServer, settings: Any) -> None:
    settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = True
    listed = await _list(server.url)
    assert [t.name for t in listed or []] == ["lookup_order"]
    assert server.authorizations
    assert set(server.authorizations) == {f"Bearer {TOKEN}"}
