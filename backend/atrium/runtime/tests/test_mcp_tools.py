"""The deep agent's MCP client against a real MCP server on loopback, through the runtime's outbound
port: both HTTP transports list and call, tool lists are cached per server and user for their TTL
and listed again after it, and a server that is down keeps its last list (so its tools answer errors)
or, never listed, offers no tools."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from atrium.runtime.outbound_port import RuntimeOutbound
from atrium_agents.auth import CREDENTIALS_KEY
from atrium_agents.deep_agent import mcp
from atrium_agents.outbound import OUTBOUND_KEY
from atrium_agents.testing.mcp_server import ORDERS, LoopbackMcpServer


class _Credentials:
    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]:
        return {"access_token": "t", "token_type": "Bearer"}


CONFIG: Any = {"configurable": {CREDENTIALS_KEY: _Credentials(), OUTBOUND_KEY: RuntimeOutbound(
    api_allow_private=False, egress_allow_private=False, egress_ports=frozenset(), mcp_allow_private=True
)}}  # fmt: skip


def _spec(server: LoopbackMcpServer, partition: str = "p:1") -> dict[str, Any]:
    return {
        "id": "s", "name": "orders", "transport": server.transport, "url": server.url, "command": [],
        "provider": "", "scopes": [], "partition": partition,
    }  # fmt: skip


@pytest.fixture(params=["streamable_http", "sse"])
def server(request: pytest.FixtureRequest) -> Iterator[LoopbackMcpServer]:
    mcp.forget_listings()
    started = LoopbackMcpServer(transport=request.param).start()
    yield started
    started.stop()
    mcp.forget_listings()


async def test_both_transports_list_and_call(server: LoopbackMcpServer) -> None:
    endpoint = await mcp._endpoint(CONFIG, _spec(server))
    [spec] = await mcp._listing(endpoint, ttl=60) or []
    assert spec.name == "lookup_order"
    assert spec.input_schema["required"] == ["order_id"]
    tool = mcp._tool(endpoint, spec, spec.name)
    assert await tool.ainvoke({"order_id": "A-17"}) == ORDERS["A-17"]


async def test_lists_are_cached_for_their_ttl_then_listed_again(server: LoopbackMcpServer) -> None:
    endpoint = await mcp._endpoint(CONFIG, _spec(server))
    await mcp._listing(endpoint, ttl=60)
    seen = len(server.authorizations)
    await mcp._listing(endpoint, ttl=60)
    assert len(server.authorizations) == seen  # cached: the server was not asked again
    other_user = await mcp._endpoint(CONFIG, _spec(server, partition="p:2"))
    await mcp._listing(other_user, ttl=60)
    assert len(server.authorizations) > seen  # another partition (user) lists for itself
    mcp._listings["p:1"].fresh_until = 0.0  # the TTL passes
    seen = len(server.authorizations)
    await mcp._listing(endpoint, ttl=60)
    assert len(server.authorizations) > seen


async def test_a_server_that_is_down_keeps_its_last_list_and_its_tools_answer_errors(
    server: LoopbackMcpServer,
) -> None:
    endpoint = await mcp._endpoint(CONFIG, _spec(server))
    listed = await mcp._listing(endpoint, ttl=60)
    mcp._listings["p:1"].fresh_until = 0.0
    server.stop()
    assert await mcp._listing(endpoint, ttl=60) == listed
    never_listed = await mcp._endpoint(CONFIG, _spec(server, partition="p:3"))
    assert await mcp._listing(never_listed, ttl=60) is None


async def test_the_middleware_turns_a_failed_call_into_a_tool_error(server: LoopbackMcpServer) -> None:
    class Port:
        async def servers(self, names: Sequence[str]) -> Mapping[str, Any]:
            return {"servers": [_spec(server)], "refused": [], "ttl_seconds": 60}

    config = {"configurable": {**CONFIG["configurable"], mcp.MCP_KEY: Port()}}
    middleware = mcp.McpToolsMiddleware(["orders"])
    found = await middleware._run_tools(config, set())
    assert list(found.tools) == ["lookup_order"]
    server.stop()

    async def handler(request: Any) -> ToolMessage:
        return await request.tool.ainvoke(request.tool_call)

    from langgraph.prebuilt.tool_node import ToolCallRequest

    call = {"name": "lookup_order", "args": {"order_id": "A-17"}, "id": "c1", "type": "tool_call"}
    request = ToolCallRequest(tool_call=call, tool=None, state={}, runtime=None)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mcp, "get_config", lambda: config)
        answer = await middleware.awrap_tool_call(request, handler)
    assert isinstance(answer, ToolMessage)
    assert answer.status == "error"
    assert answer.content.startswith("Error: the MCP server 'orders' did not answer the call to lookup_order")
