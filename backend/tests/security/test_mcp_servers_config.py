"""MCP servers through the control-plane API, as an attacker would try them: only an org's admins
register servers, a server's URL passes the outbound guard's rules, builders give an assistant only
their own org's registered servers, and end users change nothing. Each refusal leaves every row as
it was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from atrium.assistants.models import Assistant, AssistantVersion
from atrium.assistants.services import assistant_create
from atrium.audit.models import AuditEvent
from atrium.core.tenancy import scoped
from atrium.credentials.tests import factories
from atrium.mcp_servers.models import McpServer

pytestmark = pytest.mark.django_db


def _rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "servers": list(McpServer.unscoped.order_by("id").values()),
        "assistants": list(Assistant.unscoped.order_by("id").values()),
        "versions": list(AssistantVersion.unscoped.order_by("id").values()),
    }


def _send(client: Client, method: str, path: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(path, **kwargs)


@pytest.fixture
def servers(admin, outsider) -> dict[str, McpServer]:
    return {
        "ours": McpServer.unscoped.create(org=admin.org, name="tools", url="https://tools.example.test/mcp"),
        "theirs": McpServer.unscoped.create(
            org=outsider.org, name="their-tools", url="https://theirs.example.test/mcp"
        ),
    }


@pytest.fixture
def assistant(admin) -> Assistant:
    with scoped(admin.scope()):
        return assistant_create(graph_id="agent", name="Helper")


def test_a_builder_cannot_register_change_or_delete_a_server(client_for, admin, servers):
    # Given a builder of the org
    builder, base = client_for("editor"), f"/api/v1/orgs/{admin.org.slug}/mcp-servers"
    before = _rows()
    # When they try to register, change and delete servers
    answers = [
        _send(builder, "post", base, {"name": "mine", "url": "https://mine.example.test/mcp"}),
        _send(builder, "patch", f"{base}/{servers['ours'].id}", {"url": "https://evil.example.test/"}),
        _send(builder, "delete", f"{base}/{servers['ours'].id}"),
    ]
    # Then each is refused and nothing changed
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert _rows() == before


def test_another_orgs_server_is_not_found(client_for, admin, servers):
    base = f"/api/v1/orgs/{admin.org.slug}/mcp-servers/{servers['theirs'].id}"
    before = _rows()
    answers = [
        _send(client_for("admin"), "get", base),
        _send(client_for("admin"), "patch", base, {"enabled": False}),
        _send(client_for("admin"), "delete", base),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert _rows() == before
    listed = _send(client_for("admin"), "get", f"/api/v1/orgs/{admin.org.slug}/mcp-servers").json()
    assert [s["name"] for s in listed] == ["tools"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/mcp",
        "http://localhost/mcp",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/mcp",
        "http://10.1.2.3/mcp",
    ],
)
def test_a_private_url_is_refused_unless_the_operator_allows_it(client_for, admin, settings, url):
    settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = False
    base = f"/api/v1/orgs/{admin.org.slug}/mcp-servers"
    before = _rows()
    answer = _send(client_for("admin"), "post", base, {"name": "intranet", "url": url})
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == "unsafe_url"
    assert _rows() == before
    # With the operator's permission the same URL is registered.
    settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = True
    answer = _send(client_for("admin"), "post", base, {"name": "intranet", "url": url})
    assert answer.status_code == 201, answer.content


def test_a_private_url_cannot_be_patched_in(client_for, admin, servers, settings):
    settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = False
    before = _rows()
    answer = _send(
        client_for("admin"),
        "patch",
        f"/api/v1/orgs/{admin.org.slug}/mcp-servers/{servers['ours'].id}",
        {"url": "http://127.0.0.1:5432/"},
    )
    assert answer.status_code == 422
    assert _rows() == before


def test_stdio_needs_the_operators_permission(client_for, admin, settings):
    base = f"/api/v1/orgs/{admin.org.slug}/mcp-servers"
    body = {"name": "local", "transport": "stdio", "command": ["python", "-m", "server"]}
    before = _rows()
    answer = _send(client_for("admin"), "post", base, body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "stdio_not_allowed"
    assert _rows() == before
    settings.ATRIUM_MCP_ALLOW_STDIO = True
    assert _send(client_for("admin"), "post", base, body).status_code == 201


def test_a_server_behind_another_orgs_provider_is_refused(client_for, admin, outsider):
    factories.provider(outsider.org, slug="their-idp")
    before = _rows()
    answer = _send(
        client_for("admin"),
        "post",
        f"/api/v1/orgs/{admin.org.slug}/mcp-servers",
        {"name": "tools2", "url": "https://tools.example.test/mcp", "oauth_provider": "their-idp"},
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "unknown_provider"
    assert _rows() == before


@pytest.mark.parametrize("name", ["their-tools", "nowhere", "disabled"])
def test_a_builder_cannot_attach_a_server_an_admin_did_not_register(
    client_for, admin, servers, assistant, name
):
    McpServer.unscoped.create(org=admin.org, name="disabled", url="https://x.example.test/", enabled=False)
    before = _rows()
    answer = _send(
        client_for("editor"),
        "patch",
        f"/api/v1/orgs/{admin.org.slug}/assistants/{assistant.id}",
        {"context": {"mcp_servers": [name]}},
    )
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == "policy_violation"
    assert "mcp_servers" in answer.json()["detail"]
    assert _rows() == before


def test_a_builder_attaches_a_registered_server(client_for, admin, servers, assistant):
    answer = _send(
        client_for("editor"),
        "patch",
        f"/api/v1/orgs/{admin.org.slug}/assistants/{assistant.id}",
        {"context": {"mcp_servers": ["tools"]}},
    )
    assert answer.status_code == 200, answer.content
    assert Assistant.unscoped.get(id=assistant.id).context["mcp_servers"] == ["tools"]


def test_an_end_user_cannot_change_an_assistants_servers(client_for, admin, servers, assistant):
    before = _rows()
    answer = _send(
        client_for("end_user"),
        "patch",
        f"/api/v1/orgs/{admin.org.slug}/assistants/{assistant.id}",
        {"context": {"mcp_servers": ["tools"]}},
    )
    assert answer.status_code == 403
    assert _rows() == before


def _admin_form(org: Any, **fields: Any) -> dict[str, Any]:
    return {
        "org": str(org.id), "name": "intranet", "transport": "streamable_http", "url": "", "command": "[]",
        "oauth_provider": "", "scopes": "[]", "enabled": "on", **fields,
    }  # fmt: skip


def test_the_admin_site_holds_the_same_rules(client_for, admin, outsider, settings):
    # given an org admin in the Django admin, and another org's OAuth provider
    settings.ATRIUM_MCP_ALLOW_PRIVATE_HOSTS = False
    theirs = factories.provider(outsider.org, slug="their-idp")
    page = client_for("admin")
    before = _rows()
    # when they add a server on a private address, or behind the other org's provider
    private = page.post(
        "/admin/mcp_servers/mcpserver/add/", _admin_form(admin.org, url="http://10.0.0.5/mcp")
    )
    foreign = page.post(
        "/admin/mcp_servers/mcpserver/add/",
        _admin_form(admin.org, url="https://tools.example.test/mcp", oauth_provider=str(theirs.id)),
    )
    # then the form says why and nothing is saved; the other org's provider is not even offered
    assert private.status_code == 200
    assert "not a public address" in private.content.decode()
    assert foreign.status_code == 200
    assert "their-idp" not in page.get("/admin/mcp_servers/mcpserver/add/").content.decode()
    assert _rows() == before
    # and a public server is saved through the service (audited)
    saved = page.post(
        "/admin/mcp_servers/mcpserver/add/", _admin_form(admin.org, url="https://tools.example.test/mcp")
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    saved_row = McpServer.unscoped.get(org=admin.org, name="intranet")
    assert saved_row.url == "https://tools.example.test/mcp"
    assert AuditEvent.unscoped.filter(action="mcp_server.create", target_id=str(saved_row.id)).count() == 1
