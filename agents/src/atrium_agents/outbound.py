"""Outbound calls for the user go through the runtime's guard, never straight from a graph.

A tool that calls an outside service for the user (``call_connected_api``) and the sandbox's egress
proxy do not open connections to hosts of their own choosing: the runtime puts an outbound port in
``config["configurable"]["__atrium_outbound"]`` (a ``__`` key: never checkpointed, never streamed).
It resolves the host once, refuses addresses in the platform's own network (loopback, private,
link-local such as cloud metadata, and IPv4 hidden in IPv6) unless the deployment allows them, and
connects to the address it checked, so a DNS answer that changes after the check (rebinding) cannot
redirect the call. The platform's guard is the one piece of code that decides; this package only
names the port, so it needs no web framework. Without a port (a graph run outside Atrium) such calls
are refused: failing closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from langchain_core.runnables import RunnableConfig

OUTBOUND_KEY = "__atrium_outbound"


class OutboundPort(Protocol):
    """What the runtime provides.

    ``get`` answers ``{"status": int, "text": str, "truncated": bool}``, or ``{"refused": message}``
    when the guard refuses the URL, or ``{"error": message}`` when the call failed; at most
    ``max_bytes`` of the answer are read, within the runtime's deadline.

    ``mcp_transport`` is an ``httpx2.AsyncBaseTransport`` (the ``mcp`` SDK's HTTP stack) for MCP
    clients: it checks and pins every request as ``get`` does (with the deployment's MCP settings).

    ``egress_address`` is the address the sandbox's proxy connects to for ``host:port``: checked, so
    the proxy connects to it and not to the name. Raises ``PermissionError`` when refused, ``OSError``
    when the host does not resolve. ``egress_ports`` are the ports the deployment allows beyond 80,
    443 and a rule's own port.
    """

    egress_ports: frozenset[int]

    async def get(self, url: str, *, headers: Mapping[str, str], max_bytes: int) -> Mapping[str, Any]: ...

    def egress_address(self, host: str, port: int) -> str: ...

    def mcp_transport(self) -> Any: ...


class NoOutboundError(RuntimeError):
    """The graph runs somewhere that provides no outbound port."""


def outbound_of(config: RunnableConfig | Mapping[str, Any] | None) -> OutboundPort:
    port = ((config or {}).get("configurable") or {}).get(OUTBOUND_KEY)
    if port is None:
        raise NoOutboundError("This runtime provides no guarded outbound calls; outside calls are off.")
    return port  # type: ignore[no-any-return]
