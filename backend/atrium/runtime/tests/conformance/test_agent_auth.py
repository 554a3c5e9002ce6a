"""Agent auth through the live runtime: a grant that expired and was revoked at the provider during a
run → the run interrupts with a consent request → the user consents → the platform resumes the run by
itself, and the tool calls the provider's protected resource with the new token. The provider is a
real OAuth 2.0 authorization server (Authlib's server components) on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from atrium.credentials.tests.authserver import Client as OAuthClient
from atrium.credentials.tests.authserver import LoopbackAuthorizationServer, serve
from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.test_agent_pii import _postgres_hits, _redis_hits

CLIENT_SECRET = "conformance-client-secret"


@pytest.fixture
def idp(stack: LiveStack) -> Iterator[tuple[LoopbackAuthorizationServer, dict[str, Any], str]]:
    """A live authorization server and the org's provider for it (created by the org admin)."""
    server = LoopbackAuthorizationServer(
        client=OAuthClient(client_id="", client_secret=CLIENT_SECRET, redirect_uris=[], scope="read"),
        user="alice@idp",
    )
    base_url, http = serve(server)
    slug = stack.org_slug()
    created = httpx.post(
        f"{stack.base_url}/api/v1/orgs/{slug}/oauth-providers",
        json={
            "slug": f"idp-{uuid.uuid4().hex[:8]}",
            "authorize_url": f"{base_url}/authorize",
            "token_url": f"{base_url}/token",
            "revocation_url": f"{base_url}/revoke",
            "client_id": "conformance-client",
            "client_secret": CLIENT_SECRET,
            "default_scopes": ["read"],
        },
        headers=stack.headers("admin"),
        timeout=10,
    )
    assert created.status_code == 200, created.text
    provider = created.json()
    server.client.client_id = "conformance-client"
    server.client.redirect_uris = [provider["redirect_uri"]]
    assert provider["redirect_uri"].startswith(stack.base_url)
    yield server, provider, base_url
    httpx.delete(
        f"{stack.base_url}/api/v1/orgs/{slug}/oauth-providers/{provider['id']}",
        headers=stack.headers("admin"),
        timeout=10,
    )
    http.shutdown()


def _consent(stack: LiveStack, authorization_url: str) -> httpx.Response:
    """The user's browser: the provider approves and redirects to Atrium's callback, which it follows."""
    at_provider = httpx.get(authorization_url, follow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = httpx.get(
        at_provider.headers["location"], headers=stack.headers("editor"), follow_redirects=False, timeout=10
    )
    assert back.status_code == 302, back.text
    return back


def _connect(stack: LiveStack, provider: dict[str, Any]) -> None:
    started = httpx.post(
        f"{stack.base_url}/api/v1/orgs/{stack.org_slug('editor')}/oauth/{provider['slug']}/authorize",
        json={},
        headers=stack.headers("editor"),
        timeout=10,
    )
    assert started.status_code == 200, started.text
    _consent(stack, started.json()["authorization_url"])


def _expire_connection(provider_id: str, django_db_blocker: Any) -> None:
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute(
            "UPDATE credentials_oauthconnection SET expires_at = now() - interval '1 second'"
            " WHERE provider_id = %s",
            [provider_id],
        )
        assert cur.rowcount == 1


def test_an_expired_grant_interrupts_for_consent_and_the_run_resumes_by_itself(
    stack: LiveStack, idp: tuple[LoopbackAuthorizationServer, dict[str, Any], str], django_db_blocker: Any
) -> None:
    server, provider, base_url = idp
    client = stack.sync_client("editor")
    # given a user who connected the provider once, whose grant then expired and was revoked there
    _connect(stack, provider)
    server.revoke_grants()
    _expire_connection(provider["id"], django_db_blocker)
    thread = client.threads.create()
    tid = thread["thread_id"]

    # when a run needs the provider
    client.runs.wait(
        tid,
        "connected",
        input={"provider": provider["slug"], "url": f"{base_url}/userinfo"},
        raise_error=False,
    )

    # then it interrupts with a consent request for that provider (and no token anywhere in it)
    state = client.threads.get_state(tid)
    interrupts = [i for task in state["tasks"] for i in task["interrupts"]]
    assert len(interrupts) == 1
    request = interrupts[0]["value"]
    assert request["type"] == "oauth_consent"
    assert request["provider_id"] == provider["id"]
    assert request["provider_name"] == provider["name"]
    assert request["reason"] == "refresh_failed"
    assert request["scopes"] == ["read"]
    assert server.refresh_calls == 1

    # when the user consents
    landed = _consent(stack, request["authorization_url"])
    assert landed.headers["location"].endswith(f"/t/{tid}?connected={provider['slug']}")

    # then the platform resumed the run, which called the resource with a valid new token
    runs = client.runs.list(tid)
    assert len(runs) == 2
    resumed = runs[0]
    assert resumed["metadata"]["resumed_after_consent"] == provider["slug"]
    final = client.runs.join(tid, resumed["run_id"])
    assert final["answer"] == "alice@idp"
    assert client.threads.get(tid)["status"] == "idle"
    # and no token the provider issued is stored by the runtime or sent on its streams
    for token in server.tokens:
        for secret in (token.access_token, token.refresh_token):
            assert secret is not None
            assert _postgres_hits(secret, django_db_blocker) == []
            assert _redis_hits(secret) == []
