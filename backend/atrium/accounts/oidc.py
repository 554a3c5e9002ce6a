"""OpenID Connect single sign-on for the web app, through Authlib's Django client.

Providers are configured per deployment (`ATRIUM_OIDC_PROVIDERS`); each may name an org whose
membership a signing-in user gets (with `role`, never lowering a role they already have), whether
unknown users are created, and which email domains are accepted. The flow is the authorization code
flow with PKCE, a `state` and a `nonce` kept in the session; Authlib validates the ID token's
signature (the provider's JWKS), issuer, audience, expiry and nonce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from authlib.integrations.django_client import OAuth
from django.conf import settings

from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Role, role_from_setting

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class OidcProvider:
    slug: str
    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str = "openid email profile"
    org: str | None = None
    role: Role = Role.END_USER
    create_users: bool = False
    allowed_domains: tuple[str, ...] = ()

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def _parse(entry: Any) -> OidcProvider:
    if not isinstance(entry, dict):
        raise ValueError("each ATRIUM_OIDC_PROVIDERS entry must be an object")
    missing = [k for k in ("slug", "name", "issuer", "client_id", "client_secret") if not entry.get(k)]
    if missing:
        raise ValueError(f"ATRIUM_OIDC_PROVIDERS entry {entry.get('slug')!r} lacks {', '.join(missing)}")
    return OidcProvider(
        slug=str(entry["slug"]),
        name=str(entry["name"]),
        issuer=str(entry["issuer"]),
        client_id=str(entry["client_id"]),
        client_secret=str(entry["client_secret"]),
        scopes=str(entry.get("scopes") or "openid email profile"),
        org=entry.get("org") or None,
        role=role_from_setting(entry.get("role") or Role.END_USER),
        create_users=bool(entry.get("create_users", False)),
        allowed_domains=tuple(str(d).lower() for d in entry.get("allowed_domains") or ()),
    )


@lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, OidcProvider], OAuth]:
    providers = {p.slug: p for p in (_parse(e) for e in settings.ATRIUM_OIDC_PROVIDERS)}
    oauth = OAuth()
    for provider in providers.values():
        oauth.register(
            name=provider.slug,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.metadata_url,
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "default_timeout": TIMEOUT_SECONDS,
            },
        )
    return providers, oauth


def reset() -> None:
    """Forget the configured providers (tests change the setting)."""
    _registry.cache_clear()


def providers() -> list[OidcProvider]:
    return list(_registry()[0].values())


def provider_get(slug: str) -> tuple[OidcProvider, Any]:
    """The provider and its Authlib client; 404 for an unknown slug."""
    configured, oauth = _registry()
    provider = configured.get(slug)
    if provider is None:
        raise NotFoundError("No such sign-in provider.")
    return provider, oauth.create_client(slug)
