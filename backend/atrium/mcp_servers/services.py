"""Writes on MCP servers: org admins only. A server's URL passes the outbound guard's rules when it is
saved (and again on every call, in the worker)."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from atrium.audit.services import audit_record
from atrium.core import http
from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.tenancy import Permission, current_scope
from atrium.credentials.models import OAuthProvider
from atrium.mcp_servers.models import NAME_PATTERN, McpServer, Transport

_NAME = re.compile(NAME_PATTERN)
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")  # RFC 6749 scope-token
MAX_COMMAND_PARTS = 50


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValidationFailedError(
            "name: lower-case letters, digits, '-' and '_', at most 64, starting with a letter or digit.",
            code="invalid_name",
        )
    return name


def mcp_url_check(url: str) -> str:
    """An http(s) URL whose host is public, unless the operator allows private MCP hosts. A name that
    does not resolve now is kept: the worker's guard checks it again on every call."""
    url = url.strip()
    allow_private = settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS
    try:
        http.check_literal(url, allow_private=allow_private)
        if not allow_private:
            _, host, port = http.split_url(url)
            with contextlib.suppress(http.UnresolvableURLError):
                http.resolve_host(host, port, allow_private=False)
    except http.UnsafeURLError as exc:
        raise ValidationFailedError(f"url: {exc.message}", code="unsafe_url") from None
    if len(url) > 1000:
        raise ValidationFailedError("url: at most 1000 characters.", code="invalid_url")
    return url


def _check_transport(transport: str) -> str:
    if transport not in Transport.values:
        raise ValidationFailedError(
            f"transport: one of {', '.join(Transport.values)}.", code="invalid_transport"
        )
    if transport == Transport.STDIO and not settings.ATRIUM_MCP_ALLOW_STDIO:
        raise ValidationFailedError(
            "transport: stdio servers are not allowed in this deployment (ATRIUM_MCP_ALLOW_STDIO).",
            code="stdio_not_allowed",
        )
    return transport


def _check_command(command: Iterable[Any]) -> list[str]:
    parts = list(command)
    if not parts or len(parts) > MAX_COMMAND_PARTS or not all(isinstance(p, str) and p for p in parts):
        raise ValidationFailedError(
            f"command: the program and its arguments, 1 to {MAX_COMMAND_PARTS} non-empty strings.",
            code="invalid_command",
        )
    return parts


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    for scope in cleaned:
        if not _SCOPE.match(scope):
            raise ValidationFailedError(f"scopes: {scope[:40]!r} is not a valid scope.", code="invalid_scope")
    return cleaned


def _provider(slug: str | None) -> OAuthProvider | None:
    """One of the org's OAuth providers (the scoped manager sees no other org's): a 422 otherwise."""
    if not slug:
        return None
    provider = OAuthProvider.objects.filter(slug=slug).first()
    if provider is None:
        raise ValidationFailedError(
            f"oauth_provider: {slug!r} is not an OAuth provider of this org.", code="unknown_provider"
        )
    return provider


def _apply(server: McpServer, *, url: str, command: Iterable[Any]) -> None:
    """The endpoint that fits the transport: a URL for HTTP, a command for stdio."""
    if server.transport == Transport.STDIO:
        server.command, server.url = _check_command(command), ""
    else:
        if not url:
            raise ValidationFailedError("url: required for HTTP transports.", code="invalid_url")
        server.url, server.command = mcp_url_check(url), []


def mcp_server_endpoint_check(*, transport: str, url: str, command: Iterable[Any]) -> None:
    """The transport and endpoint rules alone (the admin's form asks before saving)."""
    _apply(McpServer(transport=_check_transport(transport)), url=url, command=command)


def mcp_server_create(
    *,
    name: str,
    transport: str = Transport.STREAMABLE_HTTP,
    url: str = "",
    command: Iterable[Any] = (),
    oauth_provider: str | None = None,
    scopes: Iterable[str] = (),
    enabled: bool = True,
) -> McpServer:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    server = McpServer(
        org_id=scope.org,
        name=_check_name(name),
        transport=_check_transport(transport),
        oauth_provider=_provider(oauth_provider),
        scopes=_check_scopes(scopes),
        enabled=enabled,
    )
    _apply(server, url=url, command=command)
    try:
        with transaction.atomic():
            server.save(force_insert=True)
            audit_record(
                action="mcp_server.create",
                target_type="mcp_server",
                target_id=server.id,
                data={"name": server.name, "transport": server.transport},
            )
    except IntegrityError as exc:
        raise ConflictError(f"An MCP server {name!r} exists already.", code="name_taken") from exc
    return server


_KEEP: Any = object()


def mcp_server_update(
    *,
    server_id: uuid.UUID,
    transport: str | None = None,
    url: str | None = None,
    command: Iterable[Any] | None = None,
    oauth_provider: str | Any | None = _KEEP,
    scopes: Iterable[str] | None = None,
    enabled: bool | None = None,
) -> McpServer:
    """Change a server (its name, which assistants' settings use, stays); `oauth_provider=None` or
    "" takes its provider away."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        server = McpServer.objects.select_for_update().filter(id=server_id).first()
        if server is None:
            raise NotFoundError("MCP server not found.")
        if transport is not None:
            server.transport = _check_transport(transport)
        if url is not None or command is not None or transport is not None:
            _apply(
                server,
                url=server.url if url is None else url,
                command=server.command if command is None else command,
            )
        if oauth_provider is not _KEEP:
            server.oauth_provider = _provider(oauth_provider)
        if scopes is not None:
            server.scopes = _check_scopes(scopes)
        if enabled is not None:
            server.enabled = enabled
        server.save()
        audit_record(
            action="mcp_server.update",
            target_type="mcp_server",
            target_id=server.id,
            data={"name": server.name, "enabled": server.enabled},
        )
    return server


def mcp_server_delete(*, server_id: uuid.UUID) -> None:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        deleted, _ = McpServer.objects.filter(id=server_id).delete()
        if not deleted:
            raise NotFoundError("MCP server not found.")
        audit_record(action="mcp_server.delete", target_type="mcp_server", target_id=server_id)
