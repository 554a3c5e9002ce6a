"""Test factories for credentials: rows created through the services where one exists."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from atrium.accounts.models import User
from atrium.core.tenancy import Role, Scope, scoped
from atrium.credentials import vault
from atrium.credentials.models import ConnectionStatus, OAuthConnection, OAuthProvider, WorkspaceSecret
from atrium.credentials.services import oauth_provider_create, workspace_secret_set
from atrium.orgs.models import Organization


def admin_scope(org: Organization) -> Scope:
    return Scope(user_id=None, org_id=org.id, org_slug=org.slug, role=Role.ADMIN)


def secret(org: Organization, name: str = "OPENAI_API_KEY", value: str = "sk-test-secret") -> WorkspaceSecret:
    with scoped(admin_scope(org)):
        return workspace_secret_set(name=name, value=value)


def provider(
    org: Organization,
    *,
    slug: str = "acme-idp",
    base_url: str = "https://idp.example.test",
    client_secret: str | None = "client-secret-value",
    revocation: bool = True,
    scopes: tuple[str, ...] = ("read",),
) -> OAuthProvider:
    with scoped(admin_scope(org)):
        return oauth_provider_create(
            slug=slug,
            name=slug.title(),
            authorize_url=f"{base_url}/authorize",
            token_url=f"{base_url}/token",
            revocation_url=f"{base_url}/revoke" if revocation else "",
            client_id=f"{slug}-client",
            client_secret=client_secret,
            default_scopes=scopes,
        )


def connection(
    provider: OAuthProvider,
    user: User,
    *,
    access_token: str = "access-token-value",
    refresh_token: str | None = "refresh-token-value",
    expires_at: datetime | None = None,
    scopes: tuple[str, ...] = ("read",),
) -> OAuthConnection:
    row = OAuthConnection(
        org_id=provider.org_id,
        user=user,
        provider=provider,
        scopes=list(scopes),
        status=ConnectionStatus.ACTIVE,
        expires_at=expires_at or timezone.now() + timedelta(hours=1),
    )
    row.sealed_access_token = vault.seal(access_token, aad=row.aad("access"))
    row.sealed_refresh_token = vault.seal(refresh_token, aad=row.aad("refresh")) if refresh_token else None
    row.save(force_insert=True)
    return row
