"""Tools from the org's MCP servers, loaded per run with the ``mcp`` SDK's client.

(``langchain-mcp-adapters`` 0.3 imports the ``mcp`` 1.x server package, which ``mcp`` 2 removed, and
the workspace is on ``mcp`` 2: the few lines that turn an MCP tool into a LangChain tool are here.)

An assistant names servers its org's admins registered (``mcp_servers`` in its settings). The built
graph is shared by every user of the assistant, so the tools cannot be fixed when it is built: a
middleware adds them to each model call and runs their calls (LangChain's dynamic tools). Per run:

* the runtime's MCP port (``configurable["__atrium_mcp"]``) says where each server is and which
  OAuth provider guards it, as the servers are now (one an admin disabled is refused);
* a server behind a provider is called with the *end user's* token, asked for at call time
  (``atrium_agents.auth``): without a grant the run interrupts with the same "Connect <provider>"
  request connected APIs make, and resumes once the user consented;
* every HTTP request goes through the runtime's outbound guard (``OutboundPort.mcp_transport``), so
  an MCP server cannot be one of the platform's own hosts unless the operator allows it;
* tool lists are cached per server (and per user where the user's token lists them) for a while and
  listed again after; a server that cannot be listed keeps its last list, so its tools answer "the
  server is unreachable" as tool errors, and a run never fails because a server is down.

Tokens live in the per-run connection only: never in the cache, the state or the messages.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.config import get_config
from langgraph.errors import GraphBubbleUp
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command
from mcp import ClientSession, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import PaginatedRequestParams

from atrium_agents.auth import OAuthRequirement, provider_token
from atrium_agents.outbound import NoOutboundError, outbound_of

logger = logging.getLogger(__name__)

MCP_KEY = "__atrium_mcp"
SERVER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TOOLS_TTL_SECONDS = 300.0
# Connecting and listing, or one tool call, in all: a slow server answers an error, not a hung run.
LIST_DEADLINE_SECONDS = 20.0
CALL_DEADLINE_SECONDS = 60.0
_HTTP_TIMEOUT = httpx2.Timeout(15.0, read=30.0)
_MAX_TOOLS_PER_SERVER = 200
MAX_ANSWER_CHARS = 16_000


def validate_server_names(names: Sequence[str]) -> None:
    if not isinstance(names, list) or not all(isinstance(n, str) and SERVER_NAME.match(n) for n in names):
        raise ValueError(
            "mcp_servers must be a list of MCP server names (lower-case letters, digits, - and _)"
        )
    if len(set(names)) != len(names):
        raise ValueError("mcp_servers names must be unique")


class McpPort(Protocol):
    """What the runtime provides: ``servers(names)`` answers ``{"servers": [{"id", "name",
    "transport", "url", "command", "provider", "scopes", "partition"}], "refused": [names],
    "ttl_seconds": how long a tool list is kept}``."""

    async def servers(self, names: Sequence[str]) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class ToolSpec:
    """An MCP tool as listed: what the model is shown; no token, so it may be cached."""

    name: str
    description: str
    input_schema: Mapping[str, Any]


@dataclass
class _Listing:
    tools: list[ToolSpec]
    fresh_until: float


# partition (server id and user, from the runtime) -> the server's tool definitions
_listings: dict[str, _Listing] = {}


def forget_listings() -> None:
    """Drop every cached tool list (tests)."""
    _listings.clear()


def _mcp_port(config: RunnableConfig | Mapping[str, Any]) -> McpPort | None:
    return ((config or {}).get("configurable") or {}).get(MCP_KEY)


@dataclass(frozen=True)
class _Endpoint:
    """How this run reaches one server: the user's token in `headers`, the guard in `transport`."""

    server: Mapping[str, Any]
    headers: Mapping[str, str]
    transport: Callable[[], Any] | None

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return f"_Endpoint({self.server['name']!r})"

    def client(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        assert self.transport is not None
        return httpx2.AsyncClient(
            transport=self.transport(),
            headers={**(headers or {}), **self.headers},
            timeout=timeout or _HTTP_TIMEOUT,
            auth=auth,
            follow_redirects=False,  # a redirect would leave what the guard checked
            trust_env=False,
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ClientSession]:
        server = self.server
        if server["transport"] == "stdio":
            command = list(server["command"])
            params = StdioServerParameters(command=command[0], args=command[1:])
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                yield session
        elif server["transport"] == "sse":
            async with (
                sse_client(server["url"], httpx_client_factory=self.client) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                yield session
        else:
            async with (
                self.client() as client,
                streamable_http_client(server["url"], http_client=client) as streams,
                ClientSession(streams[0], streams[1]) as session,
            ):
                await session.initialize()
                yield session


async def _endpoint(config: RunnableConfig, server: Mapping[str, Any]) -> _Endpoint:
    """The user's token (or a consent interrupt) and the guard, for one server in this run."""
    if server["transport"] == "stdio":
        return _Endpoint(server=server, headers={}, transport=None)
    headers: dict[str, str] = {}
    if server["provider"]:
        token = await provider_token(config, OAuthRequirement(server["provider"], tuple(server["scopes"])))
        headers["Authorization"] = token.authorization()
    return _Endpoint(server=server, headers=headers, transport=outbound_of(config).mcp_transport)


async def _list(endpoint: _Endpoint) -> list[ToolSpec]:
    tools: list[ToolSpec] = []
    async with endpoint.session() as session:
        cursor: str | None = None
        while len(tools) < _MAX_TOOLS_PER_SERVER:
            page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
            tools += [
                ToolSpec(name=t.name, description=t.description or "", input_schema=dict(t.input_schema))
                for t in page.tools
            ]
            cursor = page.next_cursor
            if not cursor:
                break
    return tools[:_MAX_TOOLS_PER_SERVER]


async def _listing(endpoint: _Endpoint, ttl: float) -> list[ToolSpec] | None:
    """The server's tools: cached while fresh, listed again after; the last list when listing fails
    (None when there is none)."""
    server = endpoint.server
    partition = str(server["partition"])
    cached = _listings.get(partition)
    if cached is not None and cached.fresh_until > time.monotonic():
        return cached.tools
    try:
        tools = await asyncio.wait_for(_list(endpoint), LIST_DEADLINE_SECONDS)
    except GraphBubbleUp:
        raise
    except Exception as exc:
        logger.warning("MCP server %s could not be listed: %s", server["name"], type(exc).__name__)
        return cached.tools if cached is not None else None
    _listings[partition] = _Listing(tools=tools, fresh_until=time.monotonic() + ttl)
    return tools


def _text_of(result: Any) -> str:
    parts = []
    for block in result.content or []:
        text = getattr(block, "text", None)
        parts.append(text if isinstance(text, str) else f"[{getattr(block, 'type', 'content')}]")
    return "\n".join(parts)


def _tool(endpoint: _Endpoint, spec: ToolSpec, name: str) -> BaseTool:
    """A LangChain tool that calls `spec` on the server in a session of its own."""

    async def call(**arguments: Any) -> str:
        async with endpoint.session() as session:
            result = await session.call_tool(spec.name, arguments)
        text = _text_of(result)[:MAX_ANSWER_CHARS]
        if result.is_error:
            raise ToolException(text or f"{spec.name} failed")
        return text

    return StructuredTool(
        name=name,
        description=spec.description or f"{spec.name} (MCP server {endpoint.server['name']})",
        args_schema=dict(spec.input_schema),
        coroutine=call,
        handle_tool_error=True,
        metadata={"mcp_server": endpoint.server["name"]},
    )


@dataclass
class _RunTools:
    tools: dict[str, BaseTool]
    server_of: dict[str, str]
    notes: list[str]


class McpToolsMiddleware(AgentMiddleware[Any, Any, Any]):
    """Adds the tools of the assistant's MCP servers to every model call and runs their calls."""

    def __init__(self, servers: Sequence[str], *, ttl: float = TOOLS_TTL_SECONDS) -> None:
        super().__init__()
        self._servers = list(servers)
        self._ttl = ttl

    async def _run_tools(self, config: RunnableConfig, taken: set[str]) -> _RunTools:
        found = _RunTools(tools={}, server_of={}, notes=[])
        port = _mcp_port(config)
        if port is None:
            found.notes.append("MCP servers are not available in this runtime.")
            return found
        answer = await port.servers(self._servers)
        ttl = float(answer.get("ttl_seconds") or self._ttl)
        for name in answer.get("refused") or []:
            found.notes.append(f"The MCP server {name!r} is not available to this assistant.")
        for server in answer.get("servers") or []:
            try:
                endpoint = await _endpoint(config, server)
            except NoOutboundError as exc:
                found.notes.append(str(exc))
                continue
            tools = await _listing(endpoint, ttl)
            if tools is None:
                found.notes.append(
                    f"The MCP server {server['name']!r} is unreachable; its tools are unavailable."
                )
                continue
            for spec in tools:
                name = spec.name
                if name in taken or name in found.tools:  # the server's name keeps the two apart
                    name = f"{server['name']}_{spec.name}"[:64]
                    if name in taken or name in found.tools:
                        continue
                found.tools[name] = _tool(endpoint, spec, name)
                found.server_of[name] = server["name"]
        return found

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        if not self._servers:
            return await handler(request)
        taken = {t.name if isinstance(t, BaseTool) else str(t.get("name")) for t in request.tools}
        found = await self._run_tools(get_config(), taken)
        overrides: dict[str, Any] = {"tools": [*request.tools, *found.tools.values()]}
        if found.notes and request.system_message is not None:
            overrides["system_message"] = SystemMessage(
                content=f"{request.system_message.text}\n\n" + "\n".join(found.notes)
            )
        return await handler(request.override(**overrides))

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        if request.tool is not None or not self._servers:
            return await handler(request)
        name = request.tool_call["name"]
        found = await self._run_tools(get_config(), set())
        tool = found.tools.get(name)
        if tool is None:
            return await handler(request)
        try:
            return await asyncio.wait_for(handler(request.override(tool=tool)), CALL_DEADLINE_SECONDS)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            logger.warning("MCP tool %s failed: %s", name, type(exc).__name__)
            return ToolMessage(
                content=(
                    f"Error: the MCP server {found.server_of[name]!r} did not answer the call to "
                    f"{name} ({type(exc).__name__}); it may be down. Try again later."
                ),
                tool_call_id=request.tool_call["id"] or "",
                name=name,
                status="error",
            )
