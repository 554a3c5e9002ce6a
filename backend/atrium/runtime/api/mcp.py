"""MCP over streamable HTTP at `/agent/mcp`: the org's assistants as tools, like the Agent Server's.

Stateless and JSON-only: every POST carries one JSON-RPC message and gets its answer as
`application/json` (notifications get 202); no session id, no server-initiated stream (GET is 405).
A client that probes the newer `server/discover` gets "method not found" and falls back to the
`initialize` handshake. A tool call is an ordinary stateless run of the assistant (its arguments are the
run's input) that the request waits for; authentication, tenancy and roles are the Agent Server
API's own (listing needs read, calling use_agents).
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from atrium.assistants.models import Assistant
from atrium.assistants.selectors import assistant_list
from atrium.core.errors import AtriumError
from atrium.runtime.api import jsonrpc
from atrium.runtime.api.assistants import graph_of
from atrium.runtime.api.common import call, json_response, no_content
from atrium.runtime.api.invoke import last_message_text, run_finish_wait, run_start
from atrium.runtime.engine import dumps, graph_schemas
from atrium.runtime.info import server_info

router = Router(tags=["mcp"])

# The handshake revisions this endpoint speaks (JSON responses, no sessions); newest first.
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def tool_names(assistants: list[Assistant]) -> dict[str, Assistant]:
    """Each assistant's tool name: its name made safe (`[A-Za-z0-9_-]`, ≤64), with a short id suffix
    when two would collide. Oldest first, so a name never moves to another assistant."""
    named: dict[str, Assistant] = {}
    for assistant in sorted(assistants, key=lambda a: (a.created_at, a.id)):
        base = _TOOL_NAME.sub("_", assistant.name or assistant.graph_id).strip("_")[:55] or "assistant"
        name = base if base not in named else f"{base}-{assistant.id.hex[:8]}"
        named[name] = assistant
    return named


async def _tools() -> dict[str, Assistant]:
    return tool_names(await call(lambda: list(assistant_list()))())


async def _tool(assistant: Assistant, name: str) -> dict[str, Any]:
    _, graph = await graph_of(str(assistant.id))
    schema = graph_schemas(graph).get("input_schema") or {}
    if schema.get("type") != "object":
        schema = {"type": "object", "properties": {}}
    return {
        "name": name,
        "title": assistant.name,
        "description": assistant.description or f"Runs the {assistant.graph_id} graph.",
        "inputSchema": schema,
    }


async def _tools_list(params: dict[str, Any]) -> dict[str, Any]:
    return {"tools": [await _tool(assistant, name) for name, assistant in (await _tools()).items()]}


async def _tools_call(params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("name")
    arguments = params.get("arguments") or {}
    if not isinstance(name, str) or not isinstance(arguments, dict):
        raise jsonrpc.RpcError(
            jsonrpc.INVALID_PARAMS, "tools/call needs a tool `name` and `arguments` object."
        )
    assistant = (await _tools()).get(name)
    if assistant is None:
        raise jsonrpc.RpcError(jsonrpc.INVALID_PARAMS, f"Unknown tool: {name}")
    given = params.get("metadata")
    metadata: dict[str, Any] = given if isinstance(given, dict) else {}
    run = await run_start(
        assistant_id=str(assistant.id), input=arguments, thread_id=None, metadata={**metadata, "via": "mcp"}
    )
    outcome = await run_finish_wait(run)
    if outcome.error is not None:
        return {"content": [{"type": "text", "text": outcome.error}], "isError": True}
    text = last_message_text(outcome.values)
    result: dict[str, Any] = {
        "content": [{"type": "text", "text": text if text is not None else dumps(outcome.values).decode()}],
        "isError": False,
    }
    if isinstance(outcome.values, dict):
        result["structuredContent"] = outcome.values
    return result


def _initialize(params: dict[str, Any]) -> dict[str, Any]:
    asked = params.get("protocolVersion")
    return {
        "protocolVersion": asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0],
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "atrium", "version": server_info()["version"]},
        "instructions": "Each tool runs one of this organisation's assistants and returns its answer.",
    }


@router.post("/mcp")
async def mcp_post(request: HttpRequest) -> HttpResponse:
    try:
        message = jsonrpc.parse(request)
    except jsonrpc.RpcError as exc:
        return jsonrpc.error_response(None, exc)
    if message.is_notification:
        return no_content(202)
    try:
        if message.method == "initialize":
            result = _initialize(message.params)
        elif message.method == "ping":
            result = {}
        elif message.method == "tools/list":
            result = await _tools_list(message.params)
        elif message.method == "tools/call":
            result = await _tools_call(message.params)
        else:
            raise jsonrpc.RpcError(jsonrpc.METHOD_NOT_FOUND, f"Method not found: {message.method}")
    except jsonrpc.RpcError as exc:
        return jsonrpc.error_response(message.id, exc)
    except AtriumError as exc:
        return jsonrpc.error_response(message.id, jsonrpc.error_from(exc))
    return json_response(jsonrpc.result_body(message.id, result))


@router.get("/mcp")
async def mcp_get(request: HttpRequest) -> HttpResponse:
    """No server-initiated stream: this endpoint answers each POST in its response."""
    response = json_response({"detail": "Method Not Allowed: POST JSON-RPC messages."}, status=405)
    response["Allow"] = "POST"
    return response


@router.delete("/mcp")
async def mcp_delete(request: HttpRequest) -> HttpResponse:
    """No sessions to end (no `Mcp-Session-Id` is ever issued)."""
    response = json_response({"detail": "Method Not Allowed: this endpoint keeps no sessions."}, status=405)
    response["Allow"] = "POST"
    return response
