"""End users use agents and cannot change them; builders configure within what admins approved.

Findings: every member who could chat could edit any assistant — point `connected_apis[].base_url` at a
host of their choosing (the next user's token goes there), add `sandbox_egress` rules whose headers name
admin-only workspace secrets (`${OPENAI_API_KEY}` resolved for any host), switch off guardrails.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from atrium.runtime.tests.live_stack import LiveStack
from security.control_plane import agent, call

EVIL_EGRESS = [{"host": "evil.example", "header": "Authorization", "value": "Bearer ${OPENAI_API_KEY}"}]


def _assistant(stack: LiveStack, **context: Any) -> dict[str, Any]:
    response = agent(stack, "editor", "POST", "/assistants", {"graph_id": "settings", "context": context})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _version(stack: LiveStack, assistant_id: str) -> int:
    return int(agent(stack, "admin", "GET", f"/assistants/{assistant_id}").json()["version"])


@pytest.mark.parametrize("who", ["enduser", "viewer"])
def test_an_end_user_or_viewer_cannot_create_change_or_delete_an_assistant(
    stack: LiveStack, who: str
) -> None:
    # given an assistant a builder configured
    assistant = _assistant(stack, tone="formal")
    aid = assistant["assistant_id"]
    # when a member who does not configure agents tries every way to change it, through both APIs
    attempts = [
        agent(stack, who, "POST", "/assistants", {"graph_id": "settings"}),
        agent(stack, who, "PATCH", f"/assistants/{aid}", {"context": {"sandbox_egress": EVIL_EGRESS}}),
        agent(stack, who, "POST", f"/assistants/{aid}/latest", {"version": 1}),
        agent(stack, who, "DELETE", f"/assistants/{aid}"),
        call(stack, who, "POST", "/assistants", {"graph_id": "settings"}),
        call(stack, who, "PATCH", f"/assistants/{aid}", {"context": {"tone": "rude"}}),
        call(stack, who, "DELETE", f"/assistants/{aid}"),
        call(stack, who, "PUT", f"/assistants/{aid}/grants", {"secrets": ["OPENAI_API_KEY"]}),
        call(stack, who, "PUT", "/policy", {"egress_hosts": ["evil.example"]}),
    ]
    # then each is refused and the assistant is as it was
    assert [r.status_code for r in attempts] == [403] * len(attempts), [r.text for r in attempts]
    after = agent(stack, "admin", "GET", f"/assistants/{aid}").json()
    assert (after["version"], after["context"]) == (assistant["version"], {"tone": "formal"})
    assert call(stack, "admin", "GET", f"/assistants/{aid}/grants").json() == {
        "secrets": [],
        "audience": "everyone",
    }


def test_a_builder_cannot_reach_an_unapproved_host_or_secret_until_an_admin_approves(
    stack: LiveStack,
) -> None:
    # given an assistant and no approvals for evil.example or the model key
    aid = _assistant(stack)["assistant_id"]
    host = f"h{uuid.uuid4().hex[:8]}.example"
    rule = [{"host": host, "header": "Authorization", "value": "Bearer ${OPENAI_API_KEY}"}]
    # when the builder points the sandbox at the host with the secret in a header
    refused = agent(stack, "editor", "PATCH", f"/assistants/{aid}", {"context": {"sandbox_egress": rule}})
    # then it is a 422 naming the host, and no version was written
    assert refused.status_code == 422, refused.text
    assert host in refused.json()["detail"]
    assert "not approved" in refused.json()["detail"]
    assert _version(stack, aid) == 1
    # when an admin approves the host but not the secret
    assert call(stack, "admin", "PUT", "/policy", {"egress_hosts": [host]}).status_code == 200
    still = agent(stack, "editor", "PATCH", f"/assistants/{aid}", {"context": {"sandbox_egress": rule}})
    assert still.status_code == 422, still.text
    assert "OPENAI_API_KEY" in still.json()["detail"]
    # and grants the secret to this assistant
    grants = {"secrets": ["OPENAI_API_KEY"], "audience": "everyone"}
    assert call(stack, "admin", "PUT", f"/assistants/{aid}/grants", grants).status_code == 200
    # then the builder's change goes through
    done = agent(stack, "editor", "PATCH", f"/assistants/{aid}", {"context": {"sandbox_egress": rule}})
    assert done.status_code == 200, done.text
    # and a builder cannot grant secrets or change the policy themselves
    assert call(stack, "editor", "PUT", f"/assistants/{aid}/grants", grants).status_code == 403
    assert call(stack, "editor", "PUT", "/policy", {"egress_hosts": ["*.example"]}).status_code == 403
    assert call(stack, "admin", "GET", "/policy").json() == {"egress_hosts": [host]}


def test_a_connected_api_may_only_send_a_providers_tokens_to_its_approved_base_urls(stack: LiveStack) -> None:
    # given an OAuth provider whose admin approved one API base URL
    slug = f"p{uuid.uuid4().hex[:8]}"
    provider = {
        "slug": slug,
        "authorize_url": "https://auth.example/authorize",
        "token_url": "https://auth.example/token",
        "client_id": "atrium",
        "api_base_urls": ["https://api.example/v1"],
    }
    created = call(stack, "admin", "POST", "/oauth-providers", provider)
    assert created.status_code == 200, created.text
    aid = _assistant(stack)["assistant_id"]

    def connect(base_url: str) -> int:
        api = [{"name": "crm", "provider": slug, "base_url": base_url, "scopes": ""}]
        return agent(
            stack,
            "editor",
            "PATCH",
            f"/assistants/{aid}",
            {"config": {"configurable": {"connected_apis": api}}},
        ).status_code

    # when the builder names another host, a look-alike path or another provider
    assert connect("https://attacker.example/v1") == 422
    assert connect("https://api.example/v10") == 422
    assert connect("https://api.example:8443/v1") == 422
    # then nothing was written; under the approved base URL it is accepted
    assert _version(stack, aid) == 1
    assert connect("https://api.example/v1/contacts") == 200


def test_one_settings_layer_cannot_hide_another_from_the_policy(stack: LiveStack) -> None:
    # a graph may read its settings from context or from configurable: each is checked on its own
    hidden = {
        "graph_id": "settings",
        "context": {"sandbox_egress": [{"host": "evil.example"}]},
        "config": {"configurable": {"sandbox_egress": []}},
    }
    assert agent(stack, "editor", "POST", "/assistants", hidden).status_code == 422
    aid = _assistant(stack)["assistant_id"]
    thread = agent(stack, "editor", "POST", "/threads", {}).json()["thread_id"]
    per_run = {"assistant_id": aid, "input": {}, "context": {"sandbox_egress": [{"host": "evil.example"}]}}
    ran = agent(stack, "editor", "POST", f"/threads/{thread}/runs/wait", per_run)
    assert "evil.example" in ran.text
    assert "not approved" in ran.text
