"""The authorisation matrix of the control-plane API: every endpoint, every kind of caller.

anonymous -> 401; an admin of another org -> 404 (the org does not exist for them); a member whose
role is too weak -> 403; and every refused request leaves the database exactly as it was.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from atrium.accounts.models import User
from atrium.assistants.models import Assistant, AssistantVersion
from atrium.assistants.services import assistant_create
from atrium.audit.models import AuditEvent
from atrium.core.tenancy import Role, scoped
from atrium.credentials.models import OAuthAuthorization, OAuthConnection, OAuthProvider, WorkspaceSecret
from atrium.credentials.tests import factories as credential_factories
from atrium.orgs.models import ApiKey, Membership, Organization, OrgSettings
from atrium.orgs.services import api_key_create, membership_ensure

CALLERS = ("anonymous", "other_org", "viewer", "editor", "admin")


def everyone(status: int) -> dict[str, int]:
    return {"anonymous": 401, "other_org": 404, "viewer": status, "editor": status, "admin": status}


def editors(ok: int) -> dict[str, int]:
    return {"anonymous": 401, "other_org": 404, "viewer": 403, "editor": ok, "admin": ok}


def admins(ok: int) -> dict[str, int]:
    return {"anonymous": 401, "other_org": 404, "viewer": 403, "editor": 403, "admin": ok}


PROVIDER = {
    "slug": "new-idp",
    "authorize_url": "https://idp.example/authorize",
    "token_url": "https://idp.example/token",
    "client_id": "c",
    "client_secret": "s",
}

# (method, path, body, expected status per caller); {member}, {key} and {assistant} are filled in.
MATRIX: list[tuple[str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("get", "/api/v1/orgs/acme", None, everyone(200)),
    ("patch", "/api/v1/orgs/acme", {"name": "Renamed"}, admins(200)),
    ("get", "/api/v1/orgs/acme/members", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/members", {"email": "new@acme.test", "role": "viewer"}, admins(200)),
    ("patch", "/api/v1/orgs/acme/members/{member}", {"role": "builder"}, admins(200)),
    ("delete", "/api/v1/orgs/acme/members/{member}", None, admins(204)),
    ("get", "/api/v1/orgs/acme/api-keys", None, admins(200)),
    ("post", "/api/v1/orgs/acme/api-keys", {"name": "ci"}, admins(200)),
    ("delete", "/api/v1/orgs/acme/api-keys/{key}", None, admins(204)),
    ("get", "/api/v1/orgs/acme/assistants", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/assistants", {"graph_id": "echo", "name": "New"}, editors(200)),
    ("get", "/api/v1/orgs/acme/assistants/{assistant}", None, everyone(200)),
    ("patch", "/api/v1/orgs/acme/assistants/{assistant}", {"name": "Renamed"}, editors(200)),
    ("delete", "/api/v1/orgs/acme/assistants/{assistant}", None, editors(204)),
    ("get", "/api/v1/orgs/acme/assistants/{assistant}/versions", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/assistants/{assistant}/latest", {"version": 1}, editors(200)),
    ("get", "/api/v1/orgs/acme/audit-events", None, admins(200)),
    ("get", "/api/v1/orgs/acme/secrets", None, admins(200)),
    ("put", "/api/v1/orgs/acme/secrets/NEW_SECRET", {"value": "v"}, admins(200)),
    ("delete", "/api/v1/orgs/acme/secrets/{secret}", None, admins(204)),
    ("get", "/api/v1/orgs/acme/oauth-providers", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/oauth-providers", PROVIDER, admins(200)),
    ("patch", "/api/v1/orgs/acme/oauth-providers/{provider}", {"name": "Renamed"}, admins(200)),
    ("delete", "/api/v1/orgs/acme/oauth-providers/{provider}", None, admins(204)),
    ("get", "/api/v1/orgs/acme/oauth-connections", None, admins(200)),
    ("get", "/api/v1/orgs/acme/me/connections", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/oauth/{provider}/authorize", {"scopes": ["read"]}, everyone(200)),
    # the target connection is another member's: nobody but its owner may disconnect it
    ("delete", "/api/v1/orgs/acme/me/connections/{connection}", None, everyone(404)),
    ("get", "/api/v1/orgs/acme/webhook-secret", None, admins(200)),
    ("post", "/api/v1/orgs/acme/webhook-secret/rotate", None, admins(200)),
]

USER_LEVEL: list[tuple[str, str, dict[str, Any] | None]] = [
    ("get", "/api/v1/me", None),
    ("get", "/api/v1/orgs", None),
    ("post", "/api/v1/orgs", {"name": "Fresh Org"}),
]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row the API can write, to prove a refused request changed nothing."""
    return {
        "users": list(User.objects.order_by("id").values()),
        "orgs": list(Organization.objects.order_by("id").values()),
        "memberships": list(Membership.unscoped.order_by("id").values()),
        "keys": list(ApiKey.unscoped.order_by("id").values()),
        "assistants": list(Assistant.unscoped.order_by("id").values()),
        "versions": list(AssistantVersion.unscoped.order_by("id").values()),
        "audit": list(AuditEvent.unscoped.order_by("id").values()),
        "secrets": list(WorkspaceSecret.unscoped.order_by("id").values()),
        "providers": list(OAuthProvider.unscoped.order_by("id").values()),
        "connections": list(OAuthConnection.unscoped.order_by("id").values()),
        "authorizations": list(OAuthAuthorization.unscoped.order_by("id").values()),
        "org_settings": list(OrgSettings.unscoped.order_by("id").values()),
    }


@pytest.fixture
def targets(admin, members) -> dict[str, str]:
    target = User.objects.create_user("target@acme.test")
    membership = membership_ensure(org=admin.org, user=target, role=Role.VIEWER)
    with scoped(admin.scope()):
        key, _ = api_key_create(user=target, name="target key")
        assistant = assistant_create(graph_id="echo", name="Target")
    secret = credential_factories.secret(admin.org, name="TARGET_SECRET")
    provider = credential_factories.provider(admin.org, revocation=False)
    connection = credential_factories.connection(provider, target)
    return {
        "member": str(membership.id),
        "key": str(key.id),
        "assistant": str(assistant.id),
        "secret": secret.name,
        "provider": str(provider.id),
        "connection": str(connection.id),
    }


def call(client: Client, method: str, path: str, body: dict[str, Any] | None, **headers: str):
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_org_endpoint_authorisation(caller, method, path, body, expected, client_for, targets):
    client = client_for(caller)
    before = snapshot()
    response = call(client, method, path.format(**targets), body)
    assert response.status_code == expected[caller], response.content
    if response.status_code >= 400:
        assert set(response.json()) >= {"detail", "code"}
        assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), USER_LEVEL, ids=[f"{m} {p}" for m, p, _ in USER_LEVEL])
@pytest.mark.parametrize("caller", CALLERS)
def test_user_level_endpoints_need_only_a_login(caller, method, path, body, client_for, members):
    client = client_for(caller)
    before = snapshot()
    response = call(client, method, path, body)
    if caller == "anonymous":
        assert response.status_code == 401
        assert snapshot() == before
    else:
        assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_an_api_key_of_another_org_sees_404_everywhere(
    method, path, body, expected, outsider, targets, api_key_for
):
    key = api_key_for(outsider)
    before = {k: v for k, v in snapshot().items() if k != "keys"}
    response = call(Client(), method, path.format(**targets), body, **{"x-api-key": key})
    assert response.status_code == 404
    assert {k: v for k, v in snapshot().items() if k != "keys"} == before


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_api_keys_carry_their_members_role(method, path, body, expected, viewer, targets, api_key_for):
    response = call(Client(), method, path.format(**targets), body, **{"x-api-key": api_key_for(viewer)})
    assert response.status_code == expected["viewer"]


def test_an_invalid_api_key_is_401_and_does_not_fall_back_to_the_session(client_for, admin):
    client = client_for("admin")
    response = client.get("/api/v1/orgs/acme", headers={"x-api-key": "atr_000000000000_nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_session_writes_need_the_csrf_token(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin.user)
    refused = client.patch("/api/v1/orgs/acme", data='{"name": "X"}', content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    token = client.get("/api/v1/auth/csrf").json()["csrf_token"]
    accepted = client.patch(
        "/api/v1/orgs/acme",
        data='{"name": "X"}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200
    assert accepted.json()["name"] == "X"


def test_api_key_writes_need_no_csrf_token(editor, api_key_for):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/orgs/acme/assistants",
        data='{"graph_id": "echo"}',
        content_type="application/json",
        headers={"x-api-key": api_key_for(editor)},
    )
    assert response.status_code == 200


def test_invalid_assistant_context_is_a_422_naming_the_field(client_for, editor):
    response = call(
        client_for("editor"),
        "post",
        "/api/v1/orgs/acme/assistants",
        {"graph_id": "agent", "context": {"tool_call_limit_per_run": -3, "bogus": 1}},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("context.bogus")
