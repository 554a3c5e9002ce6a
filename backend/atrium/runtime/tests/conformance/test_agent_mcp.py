"""Tools from MCP servers through the live runtime: an org admin registers a real MCP server (on
loopback, streamable HTTP), a builder gives its tools to a deep agent, and the offline model calls
one as a real model would; the answer comes back in the run. Behind an OAuth provider (a real
authorization server on loopback), the user without a grant gets the consent interrupt, consents,
and the platform resumes the run, whose call now carries the user's token, stored nowhere. A server
that is down answers a tool error and the run still completes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from atrium.credentials.tests.authserver import LoopbackAuthorizationServer
from atrium.runtime.tests.conformance.agent_support import reply
from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.test_agent_auth import _consent, idp  # noqa: F401 - a fixture
from atrium.runtime.tests.conformance.test_agent_pii import _postgres_hits, _redis_hits
from atrium_agents.testing.mcp_server import LoopbackMcpServer

ASK = "Please use the lookup_order tool for A-17."
ANSWER = "order A-17: shipped on 2026-12-01, 3 parcels"


def _register(stack: LiveStack, url: str, **extra: Any) -> dict[str, Any]:
    """The org admin registers the server through the control-plane API."""
    created = httpx.post(
        f"{stack.base_url}/api/v1/orgs/{stack.org_slug()}/mcp-servers",
        json={"name": f"orders-{uuid.uuid4().hex[:8]}", "url": url, **extra},
        headers=stack.headers("admin"),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _assistant(stack: LiveStack, server: dict[str, Any]) -> str:
    """A builder's deep agent with the server's tools."""
    assistant = stack.sync_client("editor").assistants.create(
        graph_id="agent", context={"mcp_servers": [server["name"]]}, name=f"mcp-{uuid.uuid4().hex[:8]}"
    )
    return str(assistant["assistant_id"])


def _say(stack: LiveStack, assistant_id: str, text: str, who: str = "editor") -> tuple[str, Any]:
    client = stack.sync_client(who)
    tid = client.threads.create()["thread_id"]
    values = client.runs.wait(
        tid, assistant_id, input={"messages": [{"type": "human", "content": text}]}, raise_error=False
    )
    return tid, values


@pytest.fixture
def mcp_server() -> Iterator[LoopbackMcpServer]:
    server = LoopbackMcpServer().start()
    yield server
    server.stop()


def test_the_agent_calls_an_mcp_tool_and_a_server_that_went_down_answers_a_tool_error(
    stack: LiveStack, mcp_server: LoopbackMcpServer
) -> None:
    # given a registered server and an assistant with its tools
    assistant_id = _assistant(stack, _register(stack, mcp_server.url))

    # when an end user asks for the tool
    tid, values = _say(stack, assistant_id, ASK, who="enduser")

    # then the model called it on the server and the answer came back
    assert reply(values) == f"lookup_order returned:\n{ANSWER}"
    client = stack.sync_client("enduser")
    calls = [m for m in client.threads.get_state(tid)["values"]["messages"] if m["type"] == "tool"]
    assert [(m["name"], m["content"], m.get("status")) for m in calls] == [
        ("lookup_order", ANSWER, "success")
    ]

    # when the server goes down and the user asks again
    mcp_server.stop()
    tid, values = _say(stack, assistant_id, ASK, who="enduser")

    # then the run completes, the tool answering an error the model reads back
    run = client.runs.list(tid)[0]
    assert run["status"] == "success", run
    text = reply(values)
    assert text.startswith("The lookup_order call did not succeed: Error: the MCP server"), text
    assert "it may be down" in text


def test_end_users_cannot_give_a_run_other_servers_and_a_disabled_server_is_not_called(
    stack: LiveStack, mcp_server: LoopbackMcpServer
) -> None:
    server = _register(stack, mcp_server.url)
    plain = stack.sync_client("editor").assistants.create(
        graph_id="agent", name=f"plain-{uuid.uuid4().hex[:8]}"
    )
    client = stack.sync_client("enduser")
    tid = client.threads.create()["thread_id"]

    # when an end user's run asks for the server's tools on an assistant that has none
    answer = httpx.post(
        f"{stack.url}/threads/{tid}/runs/wait",
        json={
            "assistant_id": plain["assistant_id"],
            "input": {"messages": [{"type": "human", "content": ASK}]},
            "context": {"mcp_servers": [server["name"]]},
        },
        headers=stack.headers("enduser"),
        timeout=30,
    )
    # then it is refused, and nothing ran
    assert answer.status_code == 403, answer.text
    assert "mcp_servers" in answer.json()["detail"]
    assert client.runs.list(tid) == []

    # when an admin disables a server an assistant was given
    assistant_id = _assistant(stack, server)
    disabled = httpx.patch(
        f"{stack.base_url}/api/v1/orgs/{stack.org_slug()}/mcp-servers/{server['id']}",
        json={"enabled": False},
        headers=stack.headers("admin"),
        timeout=10,
    )
    assert disabled.status_code == 200, disabled.text
    _, values = _say(stack, assistant_id, ASK, who="enduser")

    # then its runs still complete, without its tools: the server is not called
    assert reply(values) == f"You said: {ASK}"
    assert mcp_server.authorizations == []


def test_an_oauth_mcp_server_asks_for_consent_then_gets_the_users_token(
    stack: LiveStack,
    idp: tuple[LoopbackAuthorizationServer, dict[str, Any], str],  # noqa: F811 - the fixture
    django_db_blocker: Any,
) -> None:
    authorization_server, provider, _ = idp
    mcp_server = LoopbackMcpServer(accepts=lambda t: t in authorization_server.valid_access_tokens()).start()
    try:
        server = _register(stack, mcp_server.url, oauth_provider=provider["slug"], scopes=["read"])
        assistant_id = _assistant(stack, server)
        client = stack.sync_client("editor")

        # when a user who never connected the provider asks for the tool
        tid, _ = _say(stack, assistant_id, ASK)

        # then the run waits for their consent, as connected APIs do, and the server was not called
        state = client.threads.get_state(tid)
        interrupts = [i for task in state["tasks"] for i in task["interrupts"]]
        assert [i["value"]["type"] for i in interrupts] == ["oauth_consent"]
        request = interrupts[0]["value"]
        assert request["provider_id"] == provider["id"]
        assert request["scopes"] == ["read"]
        assert mcp_server.authorizations == []

        # when they consent
        _consent(stack, request["authorization_url"])

        # then the platform resumed the run, whose MCP calls carried the user's token
        runs = client.runs.list(tid)
        assert len(runs) == 2
        final = client.runs.join(tid, runs[0]["run_id"])
        assert reply(final) == f"lookup_order returned:\n{ANSWER}"
        issued = {t.access_token for t in authorization_server.tokens}
        assert mcp_server.authorizations
        assert {a.removeprefix("Bearer ") for a in mcp_server.authorizations} <= issued

        # and no token is stored by the runtime, sent on its streams, or written to its logs
        logs = stack.logs(2000)
        for token in authorization_server.tokens:
            for secret in (token.access_token, token.refresh_token):
                assert secret is not None
                assert _postgres_hits(secret, django_db_blocker) == []
                assert _redis_hits(secret) == []
                assert secret not in logs
    finally:
        mcp_server.stop()
