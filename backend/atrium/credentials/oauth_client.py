"""Talking to authorization servers: Authlib's OAuth 2.0 client over httpx, with timeouts and the
platform's one outbound guard (`core/http.py`): every request it sends is resolved, checked against
private addresses and sent to the address checked, so a provider URL cannot point into the platform's
own network, not even by answering DNS differently for the check and for the connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings

from atrium.core import http
from atrium.credentials import vault
from atrium.credentials.models import OAuthProvider
from atrium.credentials.oauth_urls import redirect_uri_for

TIMEOUT = 10.0  # seconds, every phase of a provider call
# Authlib talks through httpx2 when it is installed (another dependency brings it), else httpx: a
# failed call raises the errors of whichever it uses.
try:
    import httpx2

    HTTP_TRANSPORT: Any = httpx2.HTTPTransport
    HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover - httpx2 is in the lock file
    HTTP_ERRORS = (httpx.HTTPError,)
    HTTP_TRANSPORT = httpx.HTTPTransport
CALL_ERRORS: tuple[type[Exception], ...] = (*HTTP_ERRORS, ValueError)
# Errors after which the grant is gone: the user has to consent again. Anything else is transient.
TERMINAL_ERRORS = frozenset({"invalid_grant", "unauthorized_client", "invalid_client", "access_denied"})


class ProviderError(Exception):
    """The provider refused or could not be reached. `terminal`: the grant is gone for good."""

    def __init__(self, message: str, *, terminal: bool) -> None:
        super().__init__(message)
        self.terminal = terminal


@contextmanager
def _guarded(provider: OAuthProvider) -> Iterator[None]:
    """Refusals of the guard as provider errors: a host that does not resolve may come back, one that
    points into the platform's network (unless the deployment allows private hosts) will not."""
    try:
        yield
    except http.UnresolvableURLError as exc:
        raise ProviderError(f"{provider.slug}: {exc}", terminal=False) from None
    except http.UnsafeURLError as exc:
        raise ProviderError(f"{provider.slug}: {exc}", terminal=True) from None


def client_for(provider: OAuthProvider, *, scopes: list[str] | None = None) -> OAuth2Client:
    secret = (
        vault.unseal(bytes(provider.sealed_client_secret), aad=provider.aad())
        if provider.sealed_client_secret is not None
        else None
    )
    return OAuth2Client(
        client_id=provider.client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_post" if secret else "none",
        revocation_endpoint_auth_method="client_secret_post" if secret else "none",
        scope=" ".join(scopes) if scopes else None,
        redirect_uri=redirect_uri_for(provider.id),
        code_challenge_method="S256",
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        # Private hosts are allowed only by the deployment (development, an intranet identity provider).
        transport=http.GuardedTransport(
            allow_private=settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS, inner=HTTP_TRANSPORT(trust_env=False)
        ),
    )


def authorization_url(provider: OAuthProvider, *, scopes: list[str], state: str, code_verifier: str) -> str:
    with client_for(provider, scopes=scopes) as client:
        url, _ = client.create_authorization_url(
            provider.authorize_url, state=state, code_verifier=code_verifier
        )
    return str(url)


def _call(provider: OAuthProvider, url: str, action: str, **kwargs: Any) -> dict[str, Any]:
    try:
        with _guarded(provider), client_for(provider) as client:
            if action == "code":
                token = client.fetch_token(url, grant_type="authorization_code", **kwargs)
            else:
                token = client.refresh_token(url, **kwargs)
    except OAuthError as exc:
        raise ProviderError(f"{provider.slug}: {exc.error}", terminal=exc.error in TERMINAL_ERRORS) from None
    except CALL_ERRORS as exc:
        raise ProviderError(f"{provider.slug}: {type(exc).__name__}", terminal=False) from None
    return dict(token)


def exchange_code(provider: OAuthProvider, *, code: str, code_verifier: str) -> dict[str, Any]:
    return _call(provider, provider.token_url, "code", code=code, code_verifier=code_verifier)


def refresh(provider: OAuthProvider, *, refresh_token: str) -> dict[str, Any]:
    return _call(provider, provider.token_url, "refresh", refresh_token=refresh_token)


def revoke(provider: OAuthProvider, *, token: str, hint: str) -> bool:
    """Revoke a token at the provider (RFC 7009) when it supports it. True when it answered 2xx."""
    if not provider.revocation_url:
        return False
    try:
        with _guarded(provider), client_for(provider) as client:
            response = client.revoke_token(provider.revocation_url, token=token, token_type_hint=hint)
    except HTTP_ERRORS:
        return False
    return bool(200 <= response.status_code < 300)
