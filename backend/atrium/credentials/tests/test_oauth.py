"""OAuth against a real authorization server on loopback (Authlib's server components): consent with
PKCE and state, refresh, rotated refresh tokens, two workers refreshing at once, a revoked grant,
disconnect revoking at the provider."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone

from atrium.core.tenancy import Scope, scoped, system_scope
from atrium.credentials import vault
from atrium.credentials.models import ConnectionStatus, OAuthAuthorization, OAuthConnection, OAuthProvider
from atrium.credentials.oauth import AccessToken, ConsentRequired, oauth_token_get
from atrium.credentials.oauth_urls import redirect_uri_for
from atrium.credentials.tests import factories
from atrium.credentials.tests.authserver import Client as OAuthClient
from atrium.credentials.tests.authserver import LoopbackAuthorizationServer, serve

CLIENT_SECRET = "test-client-secret"


@pytest.fixture
def idp(admin) -> Iterator[tuple[LoopbackAuthorizationServer, OAuthProvider]]:
    """The org's provider, backed by a live authorization server that knows its callback."""
    server = LoopbackAuthorizationServer(
        client=OAuthClient(client_id="", client_secret=CLIENT_SECRET, redirect_uris=[], scope="read write"),
        user="alice@idp",
    )
    base_url, http = serve(server)
    provider = factories.provider(admin.org, base_url=base_url, client_secret=CLIENT_SECRET, scopes=("read",))
    server.client.client_id = provider.client_id
    server.client.redirect_uris = [redirect_uri_for(provider.id)]
    yield server, provider
    http.shutdown()


def _consent(client: Client, provider: OAuthProvider, scopes: list[str] | None = None) -> str:
    """Play the browser: ask Atrium for the URL, visit the provider, follow its redirect back."""
    started = client.post(
        f"/api/v1/orgs/acme/oauth/{provider.slug}/authorize",
        data={"scopes": scopes or []},
        content_type="application/json",
    )
    assert started.status_code == 200, started.content
    url = started.json()["authorization_url"]
    back = httpx.get(url, follow_redirects=False)
    assert back.status_code == 302, back.text
    return str(back.headers["location"])


def _callback(client: Client, location: str):
    parts = urlsplit(location)
    return client.get(parts.path, dict(parse_qs(parts.query, keep_blank_values=True)))


def _token(member, provider: OAuthProvider, scopes: tuple[str, ...] = ("read",)):
    with scoped(member.scope()):
        return oauth_token_get(user_id=member.user.id, provider=provider.slug, scopes=scopes)


def _connection(member) -> OAuthConnection:
    with system_scope():
        return OAuthConnection.objects.get(user=member.user)


def _expire(member) -> None:
    with system_scope():
        OAuthConnection.objects.filter(user=member.user).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )


@pytest.mark.django_db
def test_consent_with_pkce_stores_the_users_tokens_sealed(idp, viewer, client_for):
    server, provider = idp
    client = client_for("viewer")
    # when a member consents at the provider
    started = client.post(
        f"/api/v1/orgs/acme/oauth/{provider.slug}/authorize",
        data={"scopes": ["write"]},
        content_type="application/json",
    )
    query = parse_qs(urlsplit(started.json()["authorization_url"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["read write"]
    assert query["redirect_uri"] == [redirect_uri_for(provider.id)]
    back = httpx.get(started.json()["authorization_url"], follow_redirects=False)
    landed = _callback(client, back.headers["location"])
    # then they land on the connections page, with a connection holding the provider's token
    assert landed.status_code == 302
    assert landed["Location"] == f"/o/acme/connections?connected={provider.slug}"
    connection = _connection(viewer)
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.scopes == ["read", "write"]
    issued = server.tokens[-1]
    assert (
        vault.unseal(bytes(connection.sealed_access_token), aad=connection.aad("access"))
        == issued.access_token
    )
    assert issued.access_token.encode() not in bytes(connection.sealed_access_token)
    token = _token(viewer, provider, ("write",))
    assert isinstance(token, AccessToken)
    assert token.access_token == issued.access_token
    assert issued.access_token not in repr(token)


@pytest.mark.django_db
def test_a_state_is_used_once_and_only_by_its_user(idp, viewer, editor, client_for):
    _, provider = idp
    location = _consent(client_for("viewer"), provider)
    # another member cannot complete someone else's consent
    stolen = _callback(client_for("editor"), location)
    assert stolen.status_code == 404
    assert stolen.json()["code"] == "invalid_state"
    # the owner can, once
    assert _callback(client_for("viewer"), location).status_code == 302
    replay = _callback(client_for("viewer"), location)
    assert replay.status_code == 422
    assert replay.json()["code"] == "state_expired"
    with system_scope():
        assert OAuthConnection.objects.count() == 1


@pytest.mark.django_db
def test_the_callback_needs_a_login_and_a_known_state(idp, viewer, client_for):
    _, provider = idp
    location = _consent(client_for("viewer"), provider)
    assert _callback(client_for("anonymous"), location).status_code == 401
    forged = client_for("viewer").get(
        f"/api/v1/oauth/{provider.id}/callback", {"state": "forged", "code": "x"}
    )
    assert forged.status_code == 404
    refused = _callback(
        client_for("viewer"), location.split("?")[0] + "?" + location.split("?")[1].replace("code=", "x=")
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "consent_refused"
    with system_scope():
        assert OAuthConnection.objects.count() == 0
        assert OAuthAuthorization.objects.get().used_at is not None


@pytest.mark.django_db
def test_a_wrong_pkce_verifier_is_refused_by_the_provider(idp, viewer, client_for):
    _, provider = idp
    location = _consent(client_for("viewer"), provider)
    with system_scope():
        authorization = OAuthAuthorization.objects.get()
        authorization.sealed_code_verifier = vault.seal("not-the-verifier" * 4, aad=authorization.aad())
        authorization.save()
    response = _callback(client_for("viewer"), location)
    assert response.status_code == 422
    assert response.json()["code"] == "code_exchange_failed"
    with system_scope():
        assert OAuthConnection.objects.count() == 0


@pytest.mark.django_db
def test_refresh_rotates_the_refresh_token(idp, viewer, client_for):
    server, provider = idp
    _callback(client_for("viewer"), _consent(client_for("viewer"), provider))
    first = server.tokens[-1]
    # given the access token is about to expire
    _expire(viewer)
    # when a token is asked for
    token = _token(viewer, provider)
    # then the provider saw one refresh, the new pair is stored, and the old refresh token is dead
    assert server.refresh_calls == 1
    second = server.tokens[-1]
    assert isinstance(token, AccessToken)
    assert token.access_token == second.access_token != first.access_token
    connection = _connection(viewer)
    assert (
        vault.unseal(bytes(connection.sealed_refresh_token), aad=connection.aad("refresh"))
        == second.refresh_token
    )
    assert first.revoked
    # and the next refresh uses the rotated token successfully
    _expire(viewer)
    third = _token(viewer, provider)
    assert isinstance(third, AccessToken)
    assert third.access_token == server.tokens[-1].access_token
    assert server.refresh_calls == 2
    assert server.reuse_detected == 0


@pytest.mark.django_db
def test_a_revoked_grant_marks_the_connection_and_asks_for_consent_again(idp, viewer, client_for):
    server, provider = idp
    _callback(client_for("viewer"), _consent(client_for("viewer"), provider))
    server.revoke_grants()  # the user removed the app at the provider
    _expire(viewer)
    answer = _token(viewer, provider)
    assert isinstance(answer, ConsentRequired)
    assert answer.reason == "refresh_failed"
    assert answer.authorization_url.startswith(provider.authorize_url)
    connection = _connection(viewer)
    assert connection.status == ConnectionStatus.NEEDS_CONSENT
    assert connection.last_error == f"{provider.slug}: invalid_grant"
    # and consenting again brings the connection back
    _callback(client_for("viewer"), _consent(client_for("viewer"), provider))
    assert _connection(viewer).status == ConnectionStatus.ACTIVE
    assert isinstance(_token(viewer, provider), AccessToken)


@pytest.mark.django_db
def test_missing_scopes_ask_for_consent_with_the_union(idp, viewer, client_for):
    _, provider = idp
    _callback(client_for("viewer"), _consent(client_for("viewer"), provider))
    answer = _token(viewer, provider, ("write",))
    assert isinstance(answer, ConsentRequired)
    assert answer.reason == "missing_scopes"
    assert parse_qs(urlsplit(answer.authorization_url).query)["scope"] == ["read write"]


@pytest.mark.django_db
def test_disconnect_revokes_at_the_provider(idp, viewer, client_for):
    server, provider = idp
    _callback(client_for("viewer"), _consent(client_for("viewer"), provider))
    issued = server.tokens[-1]
    connection = _connection(viewer)
    response = client_for("viewer").delete(f"/api/v1/orgs/acme/me/connections/{connection.id}")
    assert response.status_code == 204
    assert server.revocations == [issued.refresh_token]
    assert issued.access_token not in server.valid_access_tokens()
    with system_scope():
        assert OAuthConnection.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_make_one_refresh(admin, viewer, client_for):
    # given a provider that takes a moment to refresh, and an expired connection
    server = LoopbackAuthorizationServer(
        client=OAuthClient(client_id="", client_secret=CLIENT_SECRET, redirect_uris=[], scope="read write"),
        user="alice@idp",
        refresh_delay=0.5,
    )
    base_url, http = serve(server)
    try:
        provider = factories.provider(admin.org, base_url=base_url, client_secret=CLIENT_SECRET)
        server.client.client_id = provider.client_id
        server.client.redirect_uris = [redirect_uri_for(provider.id)]
        _callback(client_for("viewer"), _consent(client_for("viewer"), provider))
        _expire(viewer)
        # when two workers (threads with their own database connections) ask for a token together
        results: list[object] = []
        barrier = threading.Barrier(2)

        def worker() -> None:
            barrier.wait()
            try:
                results.append(_token_for(viewer, provider))
            finally:
                close_old_connections()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # then the provider saw one refresh, both got the same fresh token, and the grant is intact
        assert server.refresh_calls == 1
        assert server.reuse_detected == 0
        assert [getattr(r, "access_token", r) for r in results] == [server.tokens[-1].access_token] * 2
        assert _connection(viewer).status == ConnectionStatus.ACTIVE
    finally:
        http.shutdown()


def _token_for(member, provider: OAuthProvider) -> object:
    with scoped(Scope(user_id=member.user.id, org_id=member.org.id, org_slug="acme", role=member.role)):
        return oauth_token_get(user_id=member.user.id, provider=provider.id, scopes=("read",))


def _refreshes(provider: OAuthProvider, outcome: str) -> float:
    """The provider's `atrium_token_refreshes_total` as a scrape of /metrics reports it."""
    from django.test import Client

    text = Client().get("/metrics").content.decode()
    series = f'atrium_token_refreshes_total{{outcome="{outcome}",provider="{provider.slug}"}} '
    return next((float(line[len(series) :]) for line in text.splitlines() if line.startswith(series)), 0.0)


@pytest.mark.django_db
def test_refreshes_are_counted_in_the_metrics_by_outcome(idp, viewer, client_for):
    server, provider = idp
    ok, failed = _refreshes(provider, "ok"), _refreshes(provider, "failed")
    # given a connection refreshed once, then its grant revoked and refreshed again
    _callback(client_for("viewer"), _consent(client_for("viewer"), provider))
    _expire(viewer)
    assert isinstance(_token(viewer, provider), AccessToken)
    server.revoke_grants()
    _expire(viewer)
    assert isinstance(_token(viewer, provider), ConsentRequired)
    # then the metrics count one good refresh and one failed one for this provider
    assert _refreshes(provider, "ok") == ok + 1
    assert _refreshes(provider, "failed") == failed + 1
