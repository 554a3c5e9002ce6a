"""The outbound port the runtime hands to graphs (``configurable["__atrium_outbound"]``).

Graphs make no outside call for a user on their own (see ``atrium_agents.outbound``): the deep agent's
connected APIs call through ``get``, its MCP clients send through ``mcp_transport``, and the
sandbox's egress proxy asks ``egress_address`` where to
connect. Both go through the platform's one guard (``core/http.py``): the host is resolved once,
addresses in the platform's network are refused unless the deployment allows them, and the
connection goes to the address checked. What is allowed is the operator's decision (deployment
settings), never a tenant's. Plain values cross the boundary: graphs do not import the platform.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings

from atrium.core import http

logger = logging.getLogger(__name__)
OUTBOUND_CONFIGURABLE = "__atrium_outbound"
# One call of a connected API: connect, send and read, in all.
API_DEADLINE_SECONDS = 15.0


class RuntimeOutbound:
    """The guard with the deployment's settings: private API hosts follow
    `ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS` (the user's token goes where their provider's does), MCP servers
    `ATRIUM_MCP_ALLOW_PRIVATE_HOSTS`, sandbox egress `ATRIUM_EGRESS_ALLOW_PRIVATE` and
    `ATRIUM_EGRESS_ALLOWED_PORTS`."""

    def __init__(
        self,
        *,
        api_allow_private: bool,
        egress_allow_private: bool,
        egress_ports: frozenset[int],
        mcp_allow_private: bool = False,
    ):
        self._api_allow_private = api_allow_private
        self._mcp_allow_private = mcp_allow_private
        self._egress_allow_private = egress_allow_private
        self.egress_ports = egress_ports

    @classmethod
    def from_settings(cls) -> RuntimeOutbound:
        return cls(
            api_allow_private=settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS,
            egress_allow_private=settings.ATRIUM_EGRESS_ALLOW_PRIVATE,
            egress_ports=frozenset(settings.ATRIUM_EGRESS_ALLOWED_PORTS),
            mcp_allow_private=settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS,
        )

    def __repr__(self) -> str:
        return "RuntimeOutbound()"

    async def get(self, url: str, *, headers: Mapping[str, str], max_bytes: int) -> Mapping[str, Any]:
        return await asyncio.to_thread(self._get, url, dict(headers), max_bytes)

    def _get(self, url: str, headers: dict[str, str], max_bytes: int) -> Mapping[str, Any]:
        try:
            answer = http.send(
                "GET",
                url,
                allow_private=self._api_allow_private,
                headers=headers,
                deadline=API_DEADLINE_SECONDS,
                max_response_bytes=max_bytes,
            )
        except http.UnsafeURLError as exc:
            # The conversation (and the model) get no address of the platform's network; the log does.
            logger.warning("connected API call refused: %s", exc.message)
            return {"refused": f"{http.redacted_url(url)} is not allowed: its host is not a public address"}
        except httpx.HTTPError as exc:
            return {"error": type(exc).__name__}
        return {"status": answer.status, "text": answer.text, "truncated": answer.truncated}

    def mcp_transport(self) -> http.AsyncGuardedTransport:
        """The transport of an MCP client's HTTP connections (streamable HTTP, SSE): every request,
        the long-lived stream included, is checked and pinned; the client follows no redirect."""
        return http.AsyncGuardedTransport(allow_private=self._mcp_allow_private)

    def egress_address(self, host: str, port: int) -> str:
        """The checked address for the sandbox's proxy. What the sandbox reads back names no address:
        sandboxed code is not told what the platform's own names resolve to (the log is)."""
        try:
            return str(http.resolve_host(host, port, allow_private=self._egress_allow_private))
        except http.UnresolvableURLError:
            raise OSError(f"cannot resolve {host}") from None
        except http.UnsafeURLError as exc:
            logger.warning("sandbox egress refused: %s", exc.message)
            raise PermissionError(f"{host} is not a public address") from None
