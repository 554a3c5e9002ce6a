"""Workspace secrets, OAuth providers and connections (mounted under /orgs/{org}), and the OAuth
callback (mounted at /oauth). Secrets go in; none ever comes out."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from ninja import Path, Router

from atrium.credentials import oauth, selectors, services
from atrium.credentials.models import OAuthConnection, OAuthProvider, WorkspaceSecret
from atrium.credentials.oauth_urls import connections_page_for, redirect_uri_for
from atrium.credentials.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    ConnectionOut,
    ProviderIn,
    ProviderOut,
    ProviderPatchIn,
    SecretIn,
    SecretOut,
)

PathStr = Annotated[str, Path()]

# Admin operations (the services require the admin role; safe methods need viewer at the door).
org_router = Router(tags=["credentials"])
# A member's own connections: any role, reads and writes alike.
member_router = Router(tags=["credentials"])
# The OAuth callback (any signed-in user; the stored state names the org).
callback_router = Router(tags=["credentials"])


def _provider_out(provider: OAuthProvider) -> dict[str, Any]:
    return {
        "id": provider.id,
        "slug": provider.slug,
        "name": provider.name,
        "authorize_url": provider.authorize_url,
        "token_url": provider.token_url,
        "revocation_url": provider.revocation_url,
        "client_id": provider.client_id,
        "has_client_secret": provider.sealed_client_secret is not None,
        "default_scopes": provider.default_scopes,
        "api_base_urls": provider.api_base_urls,
        "redirect_uri": redirect_uri_for(provider.id),
        "created_at": provider.created_at,
    }


def _connection_out(connection: OAuthConnection) -> dict[str, Any]:
    return {
        "id": connection.id,
        "provider_id": connection.provider_id,
        "provider_slug": connection.provider.slug,
        "provider_name": connection.provider.name,
        "user_email": connection.user.email,
        "scopes": connection.scopes,
        "status": connection.status,
        "expires_at": connection.expires_at,
        "refreshed_at": connection.refreshed_at,
        "created_at": connection.created_at,
    }


@org_router.get("/secrets", response=list[SecretOut])
def secret_list(request: HttpRequest, org: PathStr) -> list[WorkspaceSecret]:
    return list(selectors.workspace_secret_list())


@org_router.put("/secrets/{name}", response=SecretOut)
def secret_set(request: HttpRequest, org: PathStr, name: str, payload: SecretIn) -> WorkspaceSecret:
    return services.workspace_secret_set(name=name, value=payload.value, description=payload.description)


@org_router.delete("/secrets/{name}", response={204: None})
def secret_delete(request: HttpRequest, org: PathStr, name: str) -> HttpResponse:
    services.workspace_secret_delete(name=name)
    return HttpResponse(status=204)


@org_router.get("/oauth-providers", response=list[ProviderOut])
def provider_list(request: HttpRequest, org: PathStr) -> list[dict[str, Any]]:
    return [_provider_out(p) for p in selectors.oauth_provider_list()]


@org_router.post("/oauth-providers", response=ProviderOut)
def provider_create(request: HttpRequest, org: PathStr, payload: ProviderIn) -> dict[str, Any]:
    return _provider_out(services.oauth_provider_create(**payload.dict()))


@org_router.patch("/oauth-providers/{provider_id}", response=ProviderOut)
def provider_update(
    request: HttpRequest, org: PathStr, provider_id: uuid.UUID, payload: ProviderPatchIn
) -> dict[str, Any]:
    return _provider_out(services.oauth_provider_update(provider_id=provider_id, **payload.dict()))


@org_router.delete("/oauth-providers/{provider_id}", response={204: None})
def provider_delete(request: HttpRequest, org: PathStr, provider_id: uuid.UUID) -> HttpResponse:
    services.oauth_provider_delete(provider_id=provider_id)
    return HttpResponse(status=204)


@org_router.get("/oauth-connections", response=list[ConnectionOut])
def connection_list_for_org(request: HttpRequest, org: PathStr) -> list[dict[str, Any]]:
    return [_connection_out(c) for c in selectors.oauth_connection_list_for_org()]


@member_router.get("/me/connections", response=list[ConnectionOut])
def connection_list_mine(request: HttpRequest, org: PathStr) -> list[dict[str, Any]]:
    return [_connection_out(c) for c in selectors.oauth_connection_list_for_user()]


@member_router.delete("/me/connections/{connection_id}", response={204: None})
def connection_delete(request: HttpRequest, org: PathStr, connection_id: uuid.UUID) -> HttpResponse:
    oauth.oauth_connection_disconnect(connection_id=connection_id)
    return HttpResponse(status=204)


@member_router.post("/oauth/{provider}/authorize", response=AuthorizeOut)
def authorize(request: HttpRequest, org: PathStr, provider: str, payload: AuthorizeIn) -> dict[str, str]:
    """Start a consent: the browser is sent to the returned URL and comes back to the callback."""
    return {"authorization_url": oauth.oauth_authorize_start(provider=provider, scopes=payload.scopes)}


@callback_router.get("/{provider_id}/callback")
def callback(
    request: HttpRequest,
    provider_id: uuid.UUID,
    state: str = "",
    code: str | None = None,
    error: str | None = None,
) -> HttpResponse:
    """The provider sends the user back here; on success the web app's connections page follows."""
    authorization = oauth.oauth_callback_complete(
        user_id=request.auth.user.id,  # type: ignore[attr-defined]
        provider_id=provider_id,
        state=state,
        code=code,
        error=error,
    )
    return HttpResponseRedirect(connections_page_for(authorization))
