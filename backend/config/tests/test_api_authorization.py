"""The authorisation matrix of the control-plane API: every endpoint, every kind of caller.

anonymous -> 401; an admin of another org -> 404 (the org does not exist for them), and so does the
operator (a Django superuser with no membership: they work in the Django admin, not as a member); a
member without the permission -> 403; and every refused request leaves the database exactly as it was.
`test_every_route_is_in_the_matrix` keeps the matrix complete.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from atrium.accounts.models import User
from atrium.assistants.models import Assistant, AssistantVersion, Audience, OrgPolicy
from atrium.assistants.services import assistant_create, assistant_grants_set
from atrium.audit.models import AuditEvent
from atrium.core.tenancy import Role, scoped
from atrium.credentials.models import OAuthAuthorization, OAuthConnection, OAuthProvider, WorkspaceSecret
from atrium.credentials.tests import factories as credential_factories
from atrium.mcp_servers.models import McpServer
from atrium.orgs.models import ApiKey, Membership, Organization, OrgSettings
from atrium.orgs.services import api_key_create, membership_ensure
from atrium.runtime.models import Thread
from atrium.skills.models import Skill
from atrium.usage.models import Budget
from config.api import api

CALLERS = ("anonymous", "other_org", "operator", "viewer", "end_user", "editor", "admin")


def _expect(*, read: int, use: int, configure: int, manage: int) -> dict[str, int]:
    return {
        "anonymous": 401,
        "other_org": 404,
        "operator": 404,
        "viewer": read,
        "end_user": use,
        "editor": configure,
        "admin": manage,
    }


def everyone(status: int) -> dict[str, int]:
    """Any member (Permission.READ)."""
    return _expect(read=status, use=status, configure=status, manage=status)


def builders(ok: int) -> dict[str, int]:
    """Permission.CONFIGURE_AGENTS: builders (fixture `editor`) and admins."""
    return _expect(read=403, use=403, configure=ok, manage=ok)


def admins(ok: int) -> dict[str, int]:
    """Permission.MANAGE_ORG."""
    return _expect(read=403, use=403, configure=403, manage=ok)


def team_only(ok: int) -> dict[str, int]:
    """An assistant kept to the team: it does not exist for those who do not configure agents."""
    return _expect(read=404, use=404, configure=ok, manage=ok)


PROVIDER = {
    "slug": "new-idp",
    "authorize_url": "https://idp.example/authorize",
    "token_url": "https://idp.example/token",
    "client_id": "c",
    "client_secret": "s",
}
MCP_SERVER = {"name": "new-tools", "url": "https://mcp.example.test/mcp"}
GRANTS = {"secrets": ["TARGET_SECRET"], "audience": "team"}
SKILL_MD = "---\nname: {name}\ndescription: A skill of the matrix.\n---\n\nAnswer with the phrase ok.\n"

# (method, path, body, expected status per caller); the {placeholders} are filled from `targets`.
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
    ("post", "/api/v1/orgs/acme/assistants", {"graph_id": "echo", "name": "New"}, builders(200)),
    ("get", "/api/v1/orgs/acme/assistants/{assistant}", None, everyone(200)),
    ("get", "/api/v1/orgs/acme/assistants/{team_assistant}", None, team_only(200)),
    ("patch", "/api/v1/orgs/acme/assistants/{assistant}", {"name": "Renamed"}, builders(200)),
    ("delete", "/api/v1/orgs/acme/assistants/{assistant}", None, builders(204)),
    ("get", "/api/v1/orgs/acme/assistants/{assistant}/versions", None, everyone(200)),
    ("get", "/api/v1/orgs/acme/assistants/{team_assistant}/versions", None, team_only(200)),
    ("post", "/api/v1/orgs/acme/assistants/{assistant}/latest", {"version": 1}, builders(200)),
    ("get", "/api/v1/orgs/acme/policy", None, builders(200)),
    ("put", "/api/v1/orgs/acme/policy", {"egress_hosts": ["api.example.com"]}, admins(200)),
    ("get", "/api/v1/orgs/acme/assistants/{assistant}/grants", None, builders(200)),
    ("put", "/api/v1/orgs/acme/assistants/{assistant}/grants", GRANTS, admins(200)),
    ("get", "/api/v1/orgs/acme/audit-events", None, admins(200)),
    ("get", "/api/v1/orgs/acme/secrets", None, admins(200)),
    ("put", "/api/v1/orgs/acme/secrets/NEW_SECRET", {"value": "v"}, admins(200)),
    ("delete", "/api/v1/orgs/acme/secrets/{secret}", None, admins(204)),
    ("get", "/api/v1/orgs/acme/oauth-providers", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/oauth-providers", PROVIDER, admins(200)),
    ("patch", "/api/v1/orgs/acme/oauth-providers/{provider}", {"name": "Renamed"}, admins(200)),
    (
        "patch",
        "/api/v1/orgs/acme/oauth-providers/{provider}",
        {"api_base_urls": ["https://api.idp.example.test"]},
        admins(200),
    ),
    ("delete", "/api/v1/orgs/acme/oauth-providers/{provider}", None, admins(204)),
    ("get", "/api/v1/orgs/acme/oauth-connections", None, admins(200)),
    ("get", "/api/v1/orgs/acme/me/connections", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/oauth/{provider}/authorize", {"scopes": ["read"]}, everyone(200)),
    # the target connection is another member's: nobody but its owner may disconnect it
    ("delete", "/api/v1/orgs/acme/me/connections/{connection}", None, everyone(404)),
    # and each caller's own connection is theirs to disconnect (another org's admin names theirs)
    ("delete", "/api/v1/orgs/acme/me/connections/{own_connection}", None, everyone(204)),
    # MCP servers: admins register them; builders read them to choose an assistant's.
    ("get", "/api/v1/orgs/acme/mcp-servers", None, builders(200)),
    ("get", "/api/v1/orgs/acme/mcp-servers/{mcp_server}", None, builders(200)),
    ("post", "/api/v1/orgs/acme/mcp-servers", MCP_SERVER, admins(201)),
    ("patch", "/api/v1/orgs/acme/mcp-servers/{mcp_server}", {"enabled": False}, admins(200)),
    ("delete", "/api/v1/orgs/acme/mcp-servers/{mcp_server}", None, admins(204)),
    # Skills: members read them, builders write them, for the org and per assistant.
    ("get", "/api/v1/orgs/acme/skills", None, everyone(200)),
    ("get", "/api/v1/orgs/acme/skills/target-skill", None, everyone(200)),
    ("post", "/api/v1/orgs/acme/skills", {"files": {"SKILL.md": SKILL_MD.format(name="new")}}, builders(201)),
    (
        "put",
        "/api/v1/orgs/acme/skills/target-skill",
        {"files": {"SKILL.md": SKILL_MD.format(name="target-skill")}},
        builders(200),
    ),
    ("delete", "/api/v1/orgs/acme/skills/target-skill", None, builders(204)),
    ("get", "/api/v1/orgs/acme/assistants/{assistant}/skills", None, everyone(200)),
    ("get", "/api/v1/orgs/acme/assistants/{team_assistant}/skills", None, team_only(200)),
    ("get", "/api/v1/orgs/acme/assistants/{assistant}/skills/helper-skill", None, everyone(200)),
    (
        "post",
        "/api/v1/orgs/acme/assistants/{assistant}/skills",
        {"files": {"SKILL.md": SKILL_MD.format(name="new")}},
        builders(201),
    ),
    (
        "put",
        "/api/v1/orgs/acme/assistants/{assistant}/skills/helper-skill",
        {"files": {"SKILL.md": SKILL_MD.format(name="helper-skill")}},
        builders(200),
    ),
    ("delete", "/api/v1/orgs/acme/assistants/{assistant}/skills/helper-skill", None, builders(204)),
    ("get", "/api/v1/orgs/acme/webhook-secret", None, admins(200)),
    ("post", "/api/v1/orgs/acme/webhook-secret/rotate", None, admins(200)),
    # Another member's thread: its artifacts are its owner's only, org admins included (the owner's
    # answers, on a real sandbox, are in atrium/runtime/tests/api/test_artifacts.py).
    ("get", "/api/v1/orgs/acme/threads/{thread}/artifacts", None, everyone(404)),
    ("get", "/api/v1/orgs/acme/threads/{thread}/artifacts/report.md", None, everyone(404)),
    # Model usage: each member's own; the org's, by user or assistant, and its budgets, its admins'.
    ("get", "/api/v1/orgs/acme/usage/me", None, everyone(200)),
    ("get", "/api/v1/orgs/acme/usage", None, admins(200)),
    ("get", "/api/v1/orgs/acme/usage?group_by=assistant", None, admins(200)),
    ("get", "/api/v1/orgs/acme/budgets", None, admins(200)),
    ("put", "/api/v1/orgs/acme/budgets", {"period": "day", "metric": "tokens", "limit": 1000}, admins(200)),
    ("delete", "/api/v1/orgs/acme/budgets/{budget}", None, admins(204)),
]

USER_LEVEL: list[tuple[str, str, dict[str, Any] | None]] = [
    ("get", "/api/v1/me", None),
    ("get", "/api/v1/orgs", None),
    ("post", "/api/v1/orgs", {"name": "Fresh Org"}),
]


# Routes outside the matrix, each for a reason; a new route must join MATRIX, USER_LEVEL or this list.
EXEMPT = {
    # Before anyone is logged in: they open a session (atrium/accounts/tests/test_api.py).
    ("get", "/api/v1/auth/csrf"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    # The SSO buttons of the login page: public by design (atrium/accounts/tests/test_sso.py).
    ("get", "/api/v1/auth/oidc/providers"),
    # The outside provider's redirect back: the one-time `state` names the user, org and provider; a
    # login is required (UserAuth) and the state must be the caller's own (atrium/credentials/tests/).
    ("get", "/api/v1/oauth/{provider_id}/callback"),
}


def _route_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)))


def test_every_route_is_in_the_matrix():
    routes = {
        (method, path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
    }
    covered = {(m, p) for m, p, _, _ in MATRIX} | {(m, p) for m, p, _ in USER_LEVEL}
    missing = sorted(
        (method, path)
        for method, path in routes - EXEMPT
        if not any(m == method and _route_pattern(path).fullmatch(p) for m, p in covered)
    )
    assert missing == []
    assert EXEMPT - routes == set(), "an exempt route no longer exists: drop it from EXEMPT"


KEY_FIELDS = [f.attname for f in ApiKey._meta.concrete_fields if f.name != "last_used_at"]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row the API can write, to prove a refused request changed nothing."""
    return {
        "users": list(User.objects.order_by("id").values()),
        "orgs": list(Organization.objects.order_by("id").values()),
        "memberships": list(Membership.unscoped.order_by("id").values()),
        # last_used_at is touched by a key's use, refused or not: informative, not a change.
        "keys": list(ApiKey.unscoped.order_by("id").values(*KEY_FIELDS)),
        "assistants": list(Assistant.unscoped.order_by("id").values()),
        "versions": list(AssistantVersion.unscoped.order_by("id").values()),
        "audit": list(AuditEvent.unscoped.order_by("id").values()),
        "secrets": list(WorkspaceSecret.unscoped.order_by("id").values()),
        "providers": list(OAuthProvider.unscoped.order_by("id").values()),
        "connections": list(OAuthConnection.unscoped.order_by("id").values()),
        "authorizations": list(OAuthAuthorization.unscoped.order_by("id").values()),
        "org_settings": list(OrgSettings.unscoped.order_by("id").values()),
        "policies": list(OrgPolicy.unscoped.order_by("id").values()),
        "threads": list(Thread.unscoped.order_by("id").values()),
        "mcp_servers": list(McpServer.unscoped.order_by("id").values()),
        "budgets": list(Budget.unscoped.order_by("id").values()),
        "skills": list(Skill.unscoped.order_by("id").values()),
    }


@pytest.fixture
def targets(admin, members) -> dict[str, str]:
    target = User.objects.create_user("target@acme.test")
    membership = membership_ensure(org=admin.org, user=target, role=Role.VIEWER)
    with scoped(admin.scope()):
        key, _ = api_key_create(user=target, name="target key")
        assistant = assistant_create(graph_id="echo", name="Target")
        team_assistant = assistant_create(graph_id="echo", name="Team only")
        assistant_grants_set(assistant_id=team_assistant.id, secrets=[], audience=Audience.TEAM)
    secret = credential_factories.secret(admin.org, name="TARGET_SECRET")
    provider = credential_factories.provider(admin.org, revocation=False)
    connection = credential_factories.connection(provider, target)
    thread = Thread.unscoped.create(org=admin.org, owner=target)
    budget = Budget.unscoped.create(org=admin.org, user=target, period="day", metric="tokens", limit=10)
    theirs = credential_factories.provider(members["other_org"].org, revocation=False)
    mcp_server = McpServer.unscoped.create(org=admin.org, name="tools", url="https://mcp.example.test/mcp")
    for name, owner in (("target-skill", None), ("helper-skill", assistant)):
        Skill.unscoped.create(
            org=admin.org,
            assistant=owner,
            name=name,
            description="A skill of the matrix.",
            files={"SKILL.md": SKILL_MD.format(name=name)},
        )
    own_connections = {
        f"connection of {caller}": str(
            credential_factories.connection(theirs if caller == "other_org" else provider, member.user).id
        )
        for caller, member in members.items()
    }
    return own_connections | {
        "member": str(membership.id),
        "key": str(key.id),
        "assistant": str(assistant.id),
        "team_assistant": str(team_assistant.id),
        "thread": str(thread.id),
        "secret": secret.name,
        "provider": str(provider.id),
        "connection": str(connection.id),
        "mcp_server": str(mcp_server.id),
        "budget": str(budget.id),
    }


def call(client: Client, method: str, path: str, body: dict[str, Any] | None, **headers: str):
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


def each_caller(
    clients: dict[str, tuple[Client, dict[str, str]]],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    targets: dict[str, str] | None = None,
) -> dict[str, tuple[int, Any]]:
    """Each caller's answer to one request, each on the database as it was before: a caller's
    request runs in a savepoint rolled back afterwards. A refused request (4xx) must change nothing;
    the answer is (status, body) for a refusal and (status, None) otherwise. The path's placeholders
    are filled from `targets`, `{own_connection}` with the caller's own."""
    answers: dict[str, tuple[int, Any]] = {}
    for caller, (client, headers) in clients.items():
        with transaction.atomic():
            before = snapshot()
            own = (targets or {}).get(f"connection of {caller.removesuffix('_key')}", str(uuid.uuid4()))
            filled = path.format(**(targets or {}), own_connection=own)
            response = call(client, method, filled, body, **headers)
            refused = 400 <= response.status_code < 500
            if refused:
                assert set(response.json()) >= {"detail", "code"}, (caller, response.content)
                assert snapshot() == before, f"{caller}'s refused {method} {path} changed the database"
            answers[caller] = (response.status_code, response.json() if refused else None)
            transaction.set_rollback(True)
    return answers


@pytest.fixture
def clients(client_for, members, api_key_for) -> dict[str, tuple[Client, dict[str, str]]]:
    """Every caller of CALLERS by session, and API keys: another org's (404 everywhere) and a
    viewer's (a key carries its member's role)."""
    by_session = {caller: (client_for(caller), {}) for caller in CALLERS}
    by_key = {
        "other_org_key": (Client(), {"x-api-key": api_key_for(members["other_org"])}),
        "viewer_key": (Client(), {"x-api-key": api_key_for(members["viewer"])}),
    }
    return by_session | by_key


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_org_endpoint_authorisation(method, path, body, expected, clients, targets):
    answers = each_caller(clients, method, path, body, targets)
    statuses = {caller: status for caller, (status, _) in answers.items()}
    assert statuses == expected | {"other_org_key": 404, "viewer_key": expected["viewer"]}, answers


@pytest.mark.parametrize(("method", "path", "body"), USER_LEVEL, ids=[f"{m} {p}" for m, p, _ in USER_LEVEL])
def test_user_level_endpoints_need_only_a_login(method, path, body, clients):
    answers = each_caller(clients, method, path, body)
    statuses = {caller: status for caller, (status, _) in answers.items()}
    assert statuses == {caller: 200 for caller in clients} | {"anonymous": 401}, answers


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
