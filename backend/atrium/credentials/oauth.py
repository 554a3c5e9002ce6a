"""The OAuth flows: consent (authorization code + PKCE + state), token refresh, disconnect.

Refresh is single-flight: the connection row is locked (`SELECT ... FOR UPDATE`) while one worker
refreshes, and whoever waited on the lock re-reads the row and finds the fresh token instead of
refreshing again (a second refresh with a rotated refresh token would look like token theft to the
provider and revoke the whole grant). Tokens are refreshed a margin before they expire, with random
jitter so many tokens issued together do not all refresh in the same second.
"""

from __future__ import annotations

import logging
import random
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from atrium.audit.services import audit_record
from atrium.core.errors import NotFoundError, ValidationFailedError
from atrium.core.metrics import token_refreshes
from atrium.core.tenancy import Role, Scope, current_scope, scoped
from atrium.credentials import oauth_client, vault
from atrium.credentials.consent import consent_completed
from atrium.credentials.models import (
    ConnectionStatus,
    OAuthAuthorization,
    OAuthConnection,
    OAuthProvider,
)
from atrium.credentials.oauth_client import ProviderError
from atrium.credentials.oauth_urls import redirect_uri_for
from atrium.orgs.models import Membership

logger = logging.getLogger(__name__)

AUTHORIZATION_TTL = timedelta(minutes=10)
# How long a consent in flight is kept after it expired (used or not) before beat deletes it: its
# sealed PKCE verifier is no use to anyone by then.
AUTHORIZATION_KEEP = timedelta(hours=1)
REFRESH_MARGIN = timedelta(seconds=60)
REFRESH_JITTER_SECONDS = 30.0


@dataclass(frozen=True)
class AccessToken:
    """A usable token for one call. Never stored on anything checkpointed."""

    access_token: str
    token_type: str
    scopes: tuple[str, ...]
    expires_at: datetime | None

    def __repr__(self) -> str:  # keep it out of logs and tracebacks
        return (
            f"AccessToken(type={self.token_type!r}, scopes={self.scopes!r}, expires_at={self.expires_at!r})"
        )


@dataclass(frozen=True)
class ConsentRequired:
    """No usable grant: the user must consent at `authorization_url`."""

    provider_id: uuid.UUID
    provider_slug: str
    provider_name: str
    scopes: tuple[str, ...]
    authorization_url: str
    reason: str


def _provider(provider: str | uuid.UUID) -> OAuthProvider:
    """A provider of the current org by id or slug."""
    queryset = OAuthProvider.objects.all()
    try:
        found = queryset.filter(id=uuid.UUID(str(provider))).first()
    except ValueError:
        found = queryset.filter(slug=str(provider)).first()
    if found is None:
        raise NotFoundError("Provider not found.")
    return found


def oauth_authorize_start(
    *, provider: str | uuid.UUID, scopes: Iterable[str] = (), resume_thread_id: uuid.UUID | None = None
) -> str:
    """Begin a consent for the current user: returns the provider's authorization URL.

    Scopes asked for are the provider's defaults, those the user already granted, and `scopes`, so a
    new consent never narrows an existing grant."""
    scope = current_scope()
    if scope.user_id is None:
        raise NotFoundError("Provider not found.")
    found = _provider(provider)
    existing = OAuthConnection.objects.filter(user_id=scope.user_id, provider=found).first()
    wanted = sorted({*found.default_scopes, *(existing.scopes if existing else []), *scopes})
    authorization = OAuthAuthorization(
        org_id=scope.org,
        state=secrets.token_urlsafe(32),
        user_id=scope.user_id,
        provider=found,
        scopes=wanted,
        redirect_uri=redirect_uri_for(found.id),
        resume_thread_id=resume_thread_id,
        expires_at=timezone.now() + AUTHORIZATION_TTL,
    )
    verifier = secrets.token_urlsafe(64)
    authorization.sealed_code_verifier = vault.seal(verifier, aad=authorization.aad())
    authorization.save(force_insert=True)
    return oauth_client.authorization_url(
        found, scopes=wanted, state=authorization.state, code_verifier=verifier
    )


def oauth_callback_complete(
    *, user_id: int, provider_id: uuid.UUID, state: str, code: str | None, error: str | None
) -> OAuthAuthorization:
    """Finish a consent at the callback: check state, exchange the code (PKCE), store the tokens.

    The callback has no org in its URL: the org, user and provider come from the stored `state`,
    which must belong to the calling user and be unused and unexpired (else a 404/422, nothing
    written). Each state is usable once."""
    with transaction.atomic():
        authorization = (
            OAuthAuthorization.unscoped.select_for_update()
            .select_related("provider")
            .filter(state=state, user_id=user_id, provider_id=provider_id)
            .first()
        )
        if authorization is None:
            raise NotFoundError("Unknown or foreign authorization state.", code="invalid_state")
        if authorization.used_at is not None or authorization.expires_at <= timezone.now():
            raise ValidationFailedError("This authorization has expired; start again.", code="state_expired")
        authorization.used_at = timezone.now()
        authorization.save(update_fields=["used_at"])
    membership = Membership.unscoped.filter(org_id=authorization.org_id, user_id=user_id).first()
    if membership is None:
        raise NotFoundError("Unknown or foreign authorization state.", code="invalid_state")
    if error or not code:
        raise ValidationFailedError(
            f"The provider refused the consent: {error or 'no code'}.", code="consent_refused"
        )
    verifier = vault.unseal(bytes(authorization.sealed_code_verifier), aad=authorization.aad())
    try:
        token = oauth_client.exchange_code(authorization.provider, code=code, code_verifier=verifier)
    except ProviderError as exc:
        raise ValidationFailedError(
            f"The provider refused the code ({exc}).", code="code_exchange_failed"
        ) from None
    with scoped(
        Scope(user_id=user_id, org_id=authorization.org_id, org_slug=None, role=Role(membership.role))
    ):
        _connection_store(
            provider=authorization.provider, user_id=user_id, token=token, asked=authorization.scopes
        )
        if authorization.resume_thread_id is not None:
            consent_completed(authorization)
    return authorization


def _granted(token: dict[str, Any], asked: Iterable[str]) -> list[str]:
    raw = token.get("scope")
    if isinstance(raw, str) and raw.strip():
        return sorted(set(raw.split()))
    return sorted(set(asked))


def _expiry(token: dict[str, Any]) -> datetime | None:
    expires_at = token.get("expires_at")
    if isinstance(expires_at, (int, float)):
        return datetime.fromtimestamp(float(expires_at), tz=UTC)
    return None


def _seal_tokens(connection: OAuthConnection, token: dict[str, Any]) -> None:
    connection.sealed_access_token = vault.seal(str(token["access_token"]), aad=connection.aad("access"))
    refresh_token = token.get("refresh_token")
    if refresh_token:  # rotation: a new refresh token replaces the old one in the same write
        connection.sealed_refresh_token = vault.seal(str(refresh_token), aad=connection.aad("refresh"))
    connection.token_type = str(token.get("token_type") or "Bearer")[:32]
    connection.expires_at = _expiry(token)


def _connection_store(
    *, provider: OAuthProvider, user_id: int, token: dict[str, Any], asked: Iterable[str]
) -> OAuthConnection:
    if not token.get("access_token"):
        raise ValidationFailedError("The provider returned no access token.", code="code_exchange_failed")
    with transaction.atomic():
        connection = (
            OAuthConnection.objects.select_for_update().filter(user_id=user_id, provider=provider).first()
        )
        if connection is None:
            connection = OAuthConnection(org_id=provider.org_id, user_id=user_id, provider=provider)
            connection.sealed_refresh_token = None
            creating = True
        else:
            creating = False
            connection.sealed_refresh_token = None  # a new grant: the old refresh token is not kept
        connection.scopes = _granted(token, asked)
        connection.status = ConnectionStatus.ACTIVE
        connection.last_error = ""
        connection.refreshed_at = timezone.now()
        _seal_tokens(connection, token)
        connection.save(force_insert=creating)
        audit_record(
            action="oauth_connection.connect",
            target_type="oauth_connection",
            target_id=connection.id,
            data={"provider": provider.slug, "scopes": connection.scopes},
        )
    return connection


def _due(connection: OAuthConnection, now: datetime) -> bool:
    if connection.expires_at is None:
        return False
    jitter = timedelta(seconds=random.uniform(0.0, REFRESH_JITTER_SECONDS))  # noqa: S311 (not crypto)
    return connection.expires_at - REFRESH_MARGIN - jitter <= now


def _unseal(connection: OAuthConnection, field: str) -> str:
    sealed = connection.sealed_access_token if field == "access" else connection.sealed_refresh_token
    if sealed is None:
        raise vault.VaultError(f"The connection has no {field} token.")
    return vault.unseal(bytes(sealed), aad=connection.aad(field))


def _usable(connection: OAuthConnection) -> AccessToken:
    return AccessToken(
        access_token=vault.unseal(bytes(connection.sealed_access_token), aad=connection.aad("access")),
        token_type=connection.token_type,
        scopes=tuple(connection.scopes),
        expires_at=connection.expires_at,
    )


def oauth_token_get(
    *,
    user_id: int,
    provider: str | uuid.UUID,
    scopes: Iterable[str] = (),
    resume_thread_id: uuid.UUID | None = None,
) -> AccessToken | ConsentRequired:
    """A valid access token of `user_id` at `provider` covering `scopes`, refreshed when due; or what
    the user must do to get one. The current scope is the org (the runtime sets it)."""
    found = _provider(provider)
    needed = sorted(set(scopes))
    now = timezone.now()
    connection = OAuthConnection.objects.filter(user_id=user_id, provider=found).first()
    reason = "not_connected"
    if connection is not None:
        if connection.status != ConnectionStatus.ACTIVE:
            reason = connection.status
        elif not set(needed) <= set(connection.scopes):
            reason = "missing_scopes"
        elif not _due(connection, now):
            return _usable(connection)
        else:
            refreshed = _refresh_single_flight(connection_id=connection.id)
            if refreshed is not None:
                return refreshed
            reason = "refresh_failed"
    with scoped(Scope(user_id=user_id, org_id=found.org_id, org_slug=None, role=Role.VIEWER)):
        url = oauth_authorize_start(provider=found.id, scopes=needed, resume_thread_id=resume_thread_id)
    return ConsentRequired(
        provider_id=found.id,
        provider_slug=found.slug,
        provider_name=found.name,
        scopes=tuple(sorted({*found.default_scopes, *needed})),
        authorization_url=url,
        reason=reason,
    )


def _refresh_single_flight(*, connection_id: uuid.UUID) -> AccessToken | None:
    """Refresh under the row lock. None when the grant is gone (the connection is marked)."""
    with transaction.atomic():
        connection = (
            OAuthConnection.objects.select_for_update()
            .select_related("provider")
            .filter(id=connection_id)
            .first()
        )
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            return None
        now = timezone.now()
        if connection.expires_at is not None and connection.expires_at - REFRESH_MARGIN > now:
            return _usable(connection)  # someone refreshed while we waited for the lock
        if connection.sealed_refresh_token is None:
            _mark(connection, "expired, no refresh token")
            return None
        refresh_token = vault.unseal(bytes(connection.sealed_refresh_token), aad=connection.aad("refresh"))
        try:
            token = oauth_client.refresh(connection.provider, refresh_token=refresh_token)
        except ProviderError as exc:
            token_refreshes.inc(provider=connection.provider.slug, outcome="failed")
            if exc.terminal:
                _mark(connection, str(exc))
                return None
            logger.warning("refresh of connection %s failed, will retry: %s", connection.id, exc)
            if connection.expires_at is not None and connection.expires_at > now:
                return _usable(connection)  # still valid for a little while
            raise
        if not token.get("access_token"):
            token_refreshes.inc(provider=connection.provider.slug, outcome="failed")
            _mark(connection, "refresh returned no access token")
            return None
        token_refreshes.inc(provider=connection.provider.slug, outcome="ok")
        _seal_tokens(connection, token)
        if token.get("scope"):
            connection.scopes = _granted(token, connection.scopes)
        connection.refreshed_at = now
        connection.last_error = ""
        connection.save()
        return _usable(connection)


def _mark(connection: OAuthConnection, error: str) -> None:
    connection.status = ConnectionStatus.NEEDS_CONSENT
    connection.last_error = error[:500]
    connection.save(update_fields=["status", "last_error", "updated_at"])


def oauth_connection_disconnect(*, connection_id: uuid.UUID) -> None:
    """The current user disconnects their connection: deleted here, revoked at the provider when it
    supports revocation (after the commit; a provider that is down does not keep the row)."""
    user_id = current_scope().user_id
    if user_id is None:
        raise NotFoundError("Connection not found.")
    with transaction.atomic():
        connection = (
            OAuthConnection.objects.select_for_update()
            .select_related("provider")
            .filter(id=connection_id, user_id=user_id)
            .first()
        )
        if connection is None:
            raise NotFoundError("Connection not found.")
        # Open the token to revoke before the row goes (its identity is part of the seal).
        if connection.sealed_refresh_token is not None:
            token, hint = _unseal(connection, "refresh"), "refresh_token"
        else:
            token, hint = _unseal(connection, "access"), "access_token"
        connection.delete()
        audit_record(
            action="oauth_connection.disconnect",
            target_type="oauth_connection",
            target_id=connection_id,
            data={"provider": connection.provider.slug},
        )
    provider = connection.provider
    if not provider.revocation_url:
        return
    try:
        revoked = oauth_client.revoke(provider, token=token, hint=hint)
    except ProviderError as exc:
        logger.warning("revocation at %s refused: %s", provider.slug, exc)
        return
    if not revoked:
        logger.warning("revocation at %s did not succeed for connection %s", provider.slug, connection_id)


def oauth_authorizations_expire() -> int:
    """Delete consents in flight that expired over AUTHORIZATION_KEEP ago, in every org (beat).
    Returns how many were deleted."""
    cutoff = timezone.now() - AUTHORIZATION_KEEP
    deleted, _ = OAuthAuthorization.unscoped.filter(expires_at__lt=cutoff).delete()
    return deleted
