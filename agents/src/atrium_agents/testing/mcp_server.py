"""A real MCP server on loopback for tests (the `mcp` SDK's server, streamable HTTP or SSE, in a thread).

It stands in for a team's MCP server: one tool, `lookup_order`, answers from a fixed table. With
`accepts` set it refuses any request whose `Authorization` is not `Bearer <a token it accepts>` (401),
as a server behind an OAuth provider does; `authorizations` records what each request carried.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer

Scope = MutableMapping[str, Any]
ORDERS = {"A-17": "order A-17: shipped on 2026-12-01, 3 parcels"}


class LoopbackMcpServer:
    def __init__(
        self, *, accepts: Callable[[str], bool] | None = None, transport: str = "streamable_http"
    ) -> None:
        self.accepts = accepts
        self.transport = transport
        self.authorizations: list[str] = []
        server = MCPServer("orders")

        @server.tool()
        def lookup_order(order_id: str) -> str:
            """Look an order up by its id (like A-17): where it is and when it shipped."""
            return ORDERS.get(order_id, f"no order {order_id}")

        if transport == "sse":
            self._app = server.sse_app()
        else:
            self._app = server.streamable_http_app(stateless_http=True, json_response=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{'sse' if self.transport == 'sse' else 'mcp'}"

    async def _guard(self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            authorization = headers.get(b"authorization", b"").decode()
            self.authorizations.append(authorization)
            token = authorization.removeprefix("Bearer ")
            if self.accepts is not None and (token == authorization or not self.accepts(token)):
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await self._app(scope, receive, send)

    def start(self) -> LoopbackMcpServer:
        config = uvicorn.Config(
            self._guard,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            interface="asgi3",  # a bound method: uvicorn would otherwise take it for ASGI 2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the loopback MCP server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
