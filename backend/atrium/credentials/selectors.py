"""Reads on workspace secrets, OAuth providers and connections. Nothing here returns a secret
except `workspace_secrets_unseal`, which is for the agent runtime only (it reads the sealed values
with a run's claim)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Permission, current_scope
from atrium.credentials import vault
from atrium.credentials.models import OAuthConnection, OAuthProvider, WorkspaceSecret, aad_workspace_secret


def workspace_secret_list() -> QuerySet[WorkspaceSecret]:
    current_scope().require(Permission.MANAGE_ORG)
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
    current_scope().require(Permission.MANAGE_ORG)
    return OAuthConnection.objects.select_related("provider", "user")


def oauth_connection_list_for_user() -> QuerySet[OAuthConnection]:
    """The current user's connections in the current org."""
    user_id = current_scope().user_id
    if user_id is None:
        return OAuthConnection.objects.none()
    return OAuthConnection.objects.filter(user_id=user_id).select_related("provider", "user")


def workspace_secrets_unseal(*, org_id: str, sealed: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """(name, sealed value) rows of an org's workspace secrets, as the runtime reads them with a run's
    claim (`atrium_run_claim`), in plain text."""
    return {
        name: vault.unseal(bytes(value), aad=aad_workspace_secret(org_id=str(org_id), name=name))
        for name, value in sealed
    }
