"""Reads on MCP servers, always within the current org."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Permission, current_scope
from atrium.mcp_servers.models import McpServer, Transport


def mcp_server_list() -> QuerySet[McpServer]:
    """The org's servers, for those who register them and those who choose them for assistants."""
    current_scope().require(Permission.CONFIGURE_AGENTS)
    return McpServer.objects.select_related("oauth_provider").order_by("name")


def mcp_server_get(*, server_id: uuid.UUID) -> McpServer:
    server = mcp_server_list().filter(id=server_id).first()
    if server is None:
        raise NotFoundError("MCP server not found.")
    return server


def mcp_server_names_enabled() -> frozenset[str]:
    """The names an assistant's `mcp_servers` setting may use (atrium.assistants.policy)."""
    current_scope()
    return frozenset(McpServer.objects.filter(enabled=True).values_list("name", flat=True))


def mcp_server_specs_for_run(*, names: Iterable[str]) -> dict[str, Any]:
    """What a run needs to reach the servers its assistant names: `{"servers": [...], "refused":
    [...]}`. Refused: a name that is no enabled server of the org (now), or a stdio server the
    deployment no longer allows. No secret: tokens come through the credentials port at call time."""
    current_scope()
    wanted = list(dict.fromkeys(names))
    rows = {
        s.name: s
        for s in McpServer.objects.select_related("oauth_provider").filter(name__in=wanted, enabled=True)
    }
    servers, refused = [], []
    for name in wanted:
        server = rows.get(name)
        if server is None or (server.transport == Transport.STDIO and not settings.ATRIUM_MCP_ALLOW_STDIO):
            refused.append(name)
            continue
        servers.append(
            {
                "id": str(server.id),
                "name": server.name,
                "transport": server.transport,
                "url": server.url,
                "command": list(server.command or []),
                "provider": server.oauth_provider.slug if server.oauth_provider else "",
                "scopes": list(server.scopes or []),
            }
        )
    return {"servers": servers, "refused": refused}
