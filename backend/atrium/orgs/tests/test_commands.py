from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from atrium.orgs.models import Membership
from atrium.orgs.services import api_key_authenticate


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_api_key_provisions_org_user_membership_and_prints_the_key_last(db):
    lines = run("create_api_key", "--org", "demo", "--email", "alice@demo.local", "--role", "editor")
    found = api_key_authenticate(plaintext=lines[-1])
    assert found is not None
    _, membership = found
    assert (membership.org.slug, membership.user.email, membership.role) == (
        "demo",
        "alice@demo.local",
        "builder",  # the old name an operator may still type
    )


def test_create_api_key_keeps_an_existing_role_unless_told(db):
    run("create_api_key", "--org", "demo", "--email", "bob@demo.local", "--role", "admin")
    run("create_api_key", "--org", "demo", "--email", "bob@demo.local")
    assert Membership.unscoped.get(user__email="bob@demo.local").role == "admin"
    assert Membership.unscoped.filter(user__email="bob@demo.local").count() == 1


def test_seed_demo_is_idempotent_and_lets_the_users_log_in(db, client):
    run("seed_demo")
    run("seed_demo")
    roles = dict(Membership.unscoped.filter(org__slug="demo").values_list("user__email", "role"))
    assert roles == {
        "admin@demo.local": "admin",
        "builder@demo.local": "builder",
        "user@demo.local": "end_user",
        "viewer@demo.local": "viewer",
    }
    assert client.login(username="viewer@demo.local", password="atrium-demo")


def test_seed_demo_gives_an_empty_database_assistants_an_end_user_can_chat_with(db, client):
    """First run: the web app lists the registry's graphs before anything called the Agent API, and
    the demo deep agent asks before editing a file (the chat's approval example)."""
    from atrium.assistants.models import Assistant, AssistantVersion

    run("seed_demo")
    assert client.login(username="user@demo.local", password="atrium-demo")
    listed = client.get("/api/v1/orgs/demo/assistants")

    assert listed.status_code == 200
    by_graph = {a["graph_id"]: a for a in listed.json()}
    assert set(by_graph) == {"agent", "echo"}
    agent = Assistant.unscoped.get(id=by_graph["agent"]["id"])
    assert agent.context == {"interrupt_on": ["edit_file"]}
    assert AssistantVersion.unscoped.get(assistant=agent).context == {"interrupt_on": ["edit_file"]}
    assert Assistant.unscoped.get(id=by_graph["echo"]["id"]).context == {}


def test_seed_demo_leaves_an_edited_default_assistant_as_it_is(db):
    from atrium.assistants.models import Assistant

    run("seed_demo")
    Assistant.unscoped.filter(graph_id="agent").update(context={"model": "offline:slow"}, version=2)
    run("seed_demo")

    assert Assistant.unscoped.filter(org__slug="demo").count() == 2
    assert Assistant.unscoped.get(graph_id="agent").context == {"model": "offline:slow"}


def test_seed_demo_registers_the_demo_mcp_server_for_the_demo_agent_only_when_dev_started_one(
    db, monkeypatch
):
    """`make dev` starts the demo MCP server and says where (ATRIUM_DEMO_MCP_URL): the demo org gets
    it, at the URL of this start, and the demo agent its tools; without the variable, no server."""
    from atrium.assistants.models import Assistant
    from atrium.mcp_servers.models import McpServer

    monkeypatch.delenv("ATRIUM_DEMO_MCP_URL", raising=False)
    run("seed_demo")
    assert McpServer.unscoped.count() == 0
    assert "mcp_servers" not in Assistant.unscoped.get(graph_id="agent").context

    # a data directory seeded before: the unedited demo agent gets the server too
    monkeypatch.setenv("ATRIUM_DEMO_MCP_URL", "http://127.0.0.1:41001/mcp")
    run("seed_demo")
    monkeypatch.setenv("ATRIUM_DEMO_MCP_URL", "http://127.0.0.1:41002/mcp")
    run("seed_demo")

    server = McpServer.unscoped.get()
    assert (server.org.slug, server.name, server.url, server.enabled) == (
        "demo",
        "demo-shop",
        "http://127.0.0.1:41002/mcp",
        True,
    )
    agent = Assistant.unscoped.get(graph_id="agent")
    assert agent.context == {"interrupt_on": ["edit_file"], "mcp_servers": ["demo-shop"]}
    assert agent.version == 2  # given once, not again on each start


def test_seed_demo_leaves_the_mcp_servers_an_admin_chose_for_the_demo_agent(db, monkeypatch):
    from atrium.assistants.models import Assistant

    monkeypatch.setenv("ATRIUM_DEMO_MCP_URL", "http://127.0.0.1:41001/mcp")
    run("seed_demo")
    Assistant.unscoped.filter(graph_id="agent").update(context={"mcp_servers": []}, version=3)
    run("seed_demo")

    assert Assistant.unscoped.get(graph_id="agent").context == {"mcp_servers": []}
