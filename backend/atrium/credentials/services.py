"""Writes on workspace secrets, OAuth providers and connections. Every secret is sealed here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from urllib.parse import urlparse

from django.db import IntegrityError, transaction

from atrium.audit.services import audit_record
from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.tenancy import Permission, current_scope
from atrium.credentials import vault
from atrium.credentials.models import (
    SECRET_NAME_PATTERN,
    OAuthProvider,
    WorkspaceSecret,
)

MAX_SECRET_LENGTH = 16_384
_SECRET_NAME = re.compile(SECRET_NAME_PATTERN)
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")  # RFC 6749 scope-token


def _check_secret_value(value: str, *, field: str) -> None:
    if not value:
        raise ValidationFailedError(f"{field}: must not be empty.", code="empty_secret")
    if len(value) > MAX_SECRET_LENGTH:
        raise ValidationFailedError(
            f"{field}: at most {MAX_SECRET_LENGTH} characters.", code="secret_too_long"
        )


def workspace_secret_set(*, name: str, value: str, description: str = "") -> WorkspaceSecret:
    """Create or replace the current org's secret `name` (admins)."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    if not _SECRET_NAME.match(name):
        raise ValidationFailedError(
            "name: upper-case letters, digits and underscores, starting with a letter (e.g. OPENAI_API_KEY).",
            code="invalid_secret_name",
        )
    _check_secret_value(value, field="value")
    sealed = vault.seal(value, aad=WorkspaceSecret(org_id=scope.org, name=name).aad())
    with transaction.atomic():
        secret, _ = WorkspaceSecret.objects.update_or_create(
            org_id=scope.org,
            name=name,
            defaults={"sealed_value": sealed, "description": description.strip()},
            create_defaults={
                "sealed_value": sealed,
                "description": description.strip(),
                "created_by_id": scope.user_id,
            },
        )
        audit_record(
            action="secret.set", target_type="workspace_secret", target_id=secret.id, data={"name": name}
        )
    return secret


def workspace_secret_delete(*, name: str) -> None:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        deleted, _ = WorkspaceSecret.objects.filter(name=name).delete()
        if not deleted:
            raise NotFoundError("Secret not found.")
        audit_record(action="secret.delete", target_type="workspace_secret", data={"name": name})


def _check_url(value: str, *, field: str) -> str:
    value = value.strip()
    parsed = urlparse(value)
    if parsed.scheme not in {"https", "http"} or not parsed.hostname:
        raise ValidationFailedError(f"{field}: must be an http(s) URL.", code="invalid_url")
    if parsed.scheme == "http" and parsed.hostname not in {"localhost", "127.0.0.1", "::1"}:
        raise ValidationFailedError(f"{field}: must use https.", code="invalid_url")
    return value


def _check_base_urls(urls: Iterable[str]) -> list[str]:
    """The API base URLs an admin approves for a provider's tokens (atrium.assistants.policy)."""
    cleaned = []
    for url in urls:
        checked = _check_url(url, field="api_base_urls")
        if urlparse(checked).query or urlparse(checked).fragment:
            raise ValidationFailedError("api_base_urls: no query or fragment.", code="invalid_url")
        cleaned.append(checked.rstrip("/"))
    if len(cleaned) > 100:
        raise ValidationFailedError("api_base_urls: at most 100.", code="invalid_url")
    return sorted(set(cleaned))


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    for scope in cleaned:
        if not _SCOPE.match(scope):
            raise ValidationFailedError(f"scopes: {scope[:40]!r} is not a valid scope.", code="invalid_scope")
    return cleaned


def oauth_provider_create(
    *,
    slug: str,
    name: str,
    authorize_url: str,
    token_url: str,
    client_id: str,
    client_secret: str | None = None,
    revocation_url: str = "",
    default_scopes: Iterable[str] = (),
    api_base_urls: Iterable[str] = (),
) -> OAuthProvider:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    provider = OAuthProvider(
        org_id=scope.org,
        slug=slug,
        name=name.strip() or slug,
        authorize_url=_check_url(authorize_url, field="authorize_url"),
        token_url=_check_url(token_url, field="token_url"),
        revocation_url=_check_url(revocation_url, field="revocation_url") if revocation_url else "",
        client_id=client_id.strip(),
        default_scopes=_check_scopes(default_scopes),
        api_base_urls=_check_base_urls(api_base_urls),
    )
    if not provider.client_id:
        raise ValidationFailedError("client_id: must not be empty.", code="invalid_client_id")
    if client_secret:
        _check_secret_value(client_secret, field="client_secret")
        provider.sealed_client_secret = vault.seal(client_secret, aad=provider.aad())
    try:
        with transaction.atomic():
            provider.save(force_insert=True)
            audit_record(
                action="oauth_provider.create",
                target_type="oauth_provider",
                target_id=provider.id,
                data={"slug": slug},
            )
    except IntegrityError as exc:
        raise ConflictError(f"A provider {slug!r} exists already.", code="slug_taken") from exc
    return provider


_UNSET = object()


def oauth_provider_update(
    *,
    provider_id: uuid.UUID,
    name: str | None = None,
    authorize_url: str | None = None,
    token_url: str | None = None,
    revocation_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    default_scopes: Iterable[str] | None = None,
    api_base_urls: Iterable[str] | None = None,
) -> OAuthProvider:
    """Change a provider; `client_secret=""` removes the secret (a public client)."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        provider = OAuthProvider.objects.select_for_update().filter(id=provider_id).first()
        if provider is None:
            raise NotFoundError("Provider not found.")
        if name is not None:
            provider.name = name.strip() or provider.name
        if authorize_url is not None:
            provider.authorize_url = _check_url(authorize_url, field="authorize_url")
        if token_url is not None:
            provider.token_url = _check_url(token_url, field="token_url")
        if revocation_url is not None:
            provider.revocation_url = (
                _check_url(revocation_url, field="revocation_url") if revocation_url else ""
            )
        if client_id is not None:
            if not client_id.strip():
                raise ValidationFailedError("client_id: must not be empty.", code="invalid_client_id")
            provider.client_id = client_id.strip()
        if client_secret is not None:
            if client_secret:
                _check_secret_value(client_secret, field="client_secret")
                provider.sealed_client_secret = vault.seal(client_secret, aad=provider.aad())
            else:
                provider.sealed_client_secret = None
        if default_scopes is not None:
            provider.default_scopes = _check_scopes(default_scopes)
        if api_base_urls is not None:
            provider.api_base_urls = _check_base_urls(api_base_urls)
        provider.save()
        audit_record(
            action="oauth_provider.update",
            target_type="oauth_provider",
            target_id=provider.id,
            data={"slug": provider.slug, "client_secret_changed": client_secret is not None},
        )
    return provider


def oauth_provider_delete(*, provider_id: uuid.UUID) -> None:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        deleted, _ = OAuthProvider.objects.filter(id=provider_id).delete()
        if not deleted:
            raise NotFoundError("Provider not found.")
        audit_record(action="oauth_provider.delete", target_type="oauth_provider", target_id=provider_id)
