"""The MCP port the runtime hands to graphs (``configurable["__atrium_mcp"]``).

A graph asks it which of the org's MCP servers it may reach, by the names its assistant's settings
give (``mcp_servers``): it answers what to connect to (URL, transport, the OAuth provider whose user
token the calls carry) and which names it refuses, as the servers are now (a server an admin
disabled or deleted since the assistant was saved is refused). No secret crosses: tokens come from
the credentials port at call time. Plain dicts cross the boundary.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import connection

from atrium.core.tenancy import Role, Scope, scoped
from atrium.mcp_servers.selectors import mcp_server_specs_for_run

MCP_CONFIGURABLE = "__atrium_mcp"


class RuntimeMcpServers:
    """One run's port: the org's servers as the run's user may reach them."""

    def __init__(self, *, user_id: int | None, org_id: str, role: str) -> None:
        self._user_id = user_id
        self._org_id = uuid.UUID(str(org_id))
        self._role = Role(role) if role in Role.values else Role.VIEWER
        self._answers: dict[tuple[str, ...], Mapping[str, Any]] = {}

    def __repr__(self) -> str:
        return f"RuntimeMcpServers(org={self._org_id})"

    async def servers(self, names: Sequence[str]) -> Mapping[str, Any]:
        """``{"servers": [{"id", "name", "transport", "url", "command", "provider", "scopes",
        "partition"}], "refused": [names]}``; read once per run (the run's graph asks on every
        model call)."""
        key = tuple(names)
        if key not in self._answers:
            self._answers[key] = await asyncio.to_thread(self._servers, key)
        return self._answers[key]

    def _servers(self, names: tuple[str, ...]) -> Mapping[str, Any]:
        try:
            with scoped(Scope(user_id=self._user_id, org_id=self._org_id, role=self._role)):
                answer = mcp_server_specs_for_run(names=names)
        finally:
            connection.close()  # this pool thread holds no connection between calls
        for server in answer["servers"]:
            # Tool lists are cached per server, and per user where the user's token lists them.
            server["partition"] = f"{server['id']}:{self._user_id if server['provider'] else '*'}"
        return {**answer, "ttl_seconds": max(settings.ATRIUM_MCP_TOOLS_TTL_SECONDS, 0) or 1}
