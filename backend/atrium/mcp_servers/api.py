"""MCP servers of an org (mounted under /orgs/{org}): admins register them, builders read them to
choose which an assistant gets."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Status

from atrium.mcp_servers import selectors, services
from atrium.mcp_servers.models import McpServer
from atrium.mcp_servers.schemas import McpServerIn, McpServerOut, McpServerPatchIn

PathStr = Annotated[str, Path()]

# Reads need CONFIGURE_AGENTS (the selectors), writes MANAGE_ORG (the services and the door).
router = Router(tags=["mcp"])


def _out(server: McpServer) -> dict[str, Any]:
    return {
        "id": server.id,
        "name": server.name,
        "transport": server.transport,
        "url": server.url,
        "command": server.command,
        "oauth_provider": server.oauth_provider.slug if server.oauth_provider else None,
        "scopes": server.scopes,
        "enabled": server.enabled,
        "created_at": server.created_at,
        "updated_at": server.updated_at,
    }


@router.get("/mcp-servers", response=list[McpServerOut])
def mcp_server_list(request: HttpRequest, org: PathStr) -> list[dict[str, Any]]:
    return [_out(s) for s in selectors.mcp_server_list()]


@router.get("/mcp-servers/{server_id}", response=McpServerOut)
def mcp_server_get(request: HttpRequest, org: PathStr, server_id: uuid.UUID) -> dict[str, Any]:
    return _out(selectors.mcp_server_get(server_id=server_id))


@router.post("/mcp-servers", response={201: McpServerOut})
def mcp_server_create(request: HttpRequest, org: PathStr, payload: McpServerIn) -> Status[dict[str, Any]]:
    return Status(201, _out(services.mcp_server_create(**payload.dict())))


@router.patch("/mcp-servers/{server_id}", response=McpServerOut)
def mcp_server_update(
    request: HttpRequest, org: PathStr, server_id: uuid.UUID, payload: McpServerPatchIn
) -> dict[str, Any]:
    changes = payload.dict(exclude_unset=True)
    return _out(services.mcp_server_update(server_id=server_id, **changes))


@router.delete("/mcp-servers/{server_id}", response={204: None})
def mcp_server_delete(request: HttpRequest, org: PathStr, server_id: uuid.UUID) -> HttpResponse:
    services.mcp_server_delete(server_id=server_id)
    return HttpResponse(status=204)
