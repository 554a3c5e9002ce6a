"""Reads on workspace secrets, OAuth providers and connections. Nothing here returns a secret
except `workspace_secrets_for_org`, which is for the agent runtime only."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from psycopg.rows import tuple_row

from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Role, current_scope
from atrium.credentials import vault
from atrium.credentials.models import OAuthConnection, OAuthProvider, WorkspaceSecret, aad_workspace_secret


def workspace_secret_list() -> QuerySet[WorkspaceSecret]:
    current_scope().require(Role.ADMIN)
    return WorkspaceSecret.objects.all().defer("sealed_value")


def oauth_provider_list() -> QuerySet[OAuthProvider]:
    current_scope()
    return OAuthProvider.objects.all()


def oauth_provider_get(*, provider_id: uuid.UUID) -> OAuthProvider:
    provider = OAuthProvider.objects.filter(id=provider_id).first()
    if provider is None:
        raise NotFoundError("Provider not found.")
    return provider


def oauth_connection_list_for_org() -> QuerySet[OAuthConnection]:
    """Every connection of the org (admins see which exist, never the tokens)."""
    current_scope().require(Role.ADMIN)
    return OAuthConnection.objects.select_related("provider", "user")


def oauth_connection_list_for_user() -> QuerySet[OAuthConnection]:
    """The current user's connections in the current org."""
    user_id = current_scope().user_id
    if user_id is None:
        return OAuthConnection.objects.none()
    return OAuthConnection.objects.filter(user_id=user_id).select_related("provider", "user")


_SECRETS_SQL = "SELECT name, sealed_value FROM credentials_workspacesecret WHERE org_id = %s"


async def workspace_secrets_for_org(conn: Any, *, org_id: str) -> dict[str, str]:
    """The org's workspace secrets in plain text, for the agent runtime at run time.

    Reads over the runtime's own async connection (`conn`, a psycopg AsyncConnection) since it runs
    on the worker's event loop; the org is explicit because the runtime is an entry point."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_SECRETS_SQL, (org_id,))
        rows = await cur.fetchall()
    return {
        name: vault.unseal(bytes(sealed), aad=aad_workspace_secret(org_id=str(org_id), name=name))
        for name, sealed in rows
    }
