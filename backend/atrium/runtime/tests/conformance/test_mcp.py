"""MCP at `/agent/mcp`: the official `mcp` client lists an org's assistants as tools and completes a
run by calling one; the same keys, orgs and roles as the rest of the Agent Server API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from atrium.runtime.tests.conformance.conftest import LiveStack


def mcp_client(stack: LiveStack, who: str) -> Any:
    http = httpx2.AsyncClient(headers=stack.headers(who), timeout=httpx2.Timeout(60.0, connect=5.0))
    return Client(streamable_http_client(f"{stack.url}/mcp", http_client=http))


@pytest.fixture
async def echo_tool(stack: LiveStack) -> str:
    name = f"echo-{uuid.uuid4().hex[:8]}"
    await stack.client("admin").assistants.create(graph_id="echo", name=name, description="Says it back.")
    return name


async def test_the_mcp_client_lists_assistants_and_completes_a_run(stack: LiveStack, echo_tool: str) -> None:
    async with mcp_client(stack, "editor") as client:
        # Then the handshake settled on a revision both speak
        assert client.protocol_version == "2025-11-25"
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert tools[echo_tool].description == "Says it back."
        assert tools[echo_tool].input_schema["type"] == "object"
        assert "messages" in tools[echo_tool].input_schema["properties"]
        # When a tool is called, its arguments are the run's input and its answer the final message
        result = await client.call_tool(
            echo_tool, {"messages": [{"role": "user", "content": "hello over mcp"}]}
        )
    assert result.is_error is False
    assert [block.text for block in result.content] == ["hello over mcp"]  # type: ignore[union-attr]
    assert result.structured_content is not None
    assert result.structured_content["turns"] == 1


async def test_an_unknown_tool_and_an_unknown_method_are_json_rpc_errors(stack: LiveStack) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as http:
        unknown = await http.post(
            "/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "nope", "arguments": {}},
            },
        )
        assert unknown.status_code == 200
        assert unknown.json()["error"] == {"code": -32602, "message": "Unknown tool: nope"}
        method = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "resources/list"})
        assert method.json()["error"]["code"] == -32601
        malformed = await http.post("/mcp", content=b"{not json")
        assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, -32700)
        notification = await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert (notification.status_code, notification.content) == (202, b"")
        assert (await http.get("/mcp")).status_code == 405


LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


@pytest.mark.parametrize(
    ("who", "list_status", "call_outcome"),
    [
        ("anonymous", 401, None),
        ("other", 200, "unknown"),  # another org's key sees its own org, where the tool does not exist
        ("viewer", 200, "forbidden"),
        ("editor", 200, "ran"),
        ("admin", 200, "ran"),
    ],
)
async def test_authorisation_matrix(
    stack: LiveStack, echo_tool: str, who: str, list_status: int, call_outcome: str | None
) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers(who), timeout=60) as http:
        listed = await http.post("/mcp", json=LIST)
        assert listed.status_code == list_status
        if call_outcome is None:
            assert listed.json() == {"detail": "Authentication required."}
            return
        names = [tool["name"] for tool in listed.json()["result"]["tools"]]
        assert (echo_tool in names) == (who != "other")
        called = await http.post(
            "/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": echo_tool, "arguments": {"messages": [{"role": "user", "content": "hi"}]}},
            },
        )
    body = called.json()
    if call_outcome == "ran":
        assert body["result"]["content"] == [{"type": "text", "text": "hi"}]
    elif call_outcome == "forbidden":
        assert body["error"]["data"] == {"status": 403}
    else:
        assert body["error"] == {"code": -32602, "message": f"Unknown tool: {echo_tool}"}
