"""Nothing an end user sends with a run widens what the assistant's admin-approved settings allow.

Findings: a run's `context` / `config.configurable` overrode the assistant's settings (the same powers
per run as editing the assistant), every run received every workspace secret of the org, and any
member could steer a graph to a node or write its state (skipping an approval).
"""

from __future__ import annotations

import uuid
from typing import Any

from atrium.runtime.tests.live_stack import LiveStack
from security.control_plane import agent, call

EGRESS = [{"host": "evil.example"}]


def _assistant(stack: LiveStack, **context: Any) -> str:
    response = agent(stack, "editor", "POST", "/assistants", {"graph_id": "settings", "context": context})
    assert response.status_code == 200, response.text
    return str(response.json()["assistant_id"])


def _thread(stack: LiveStack, who: str) -> str:
    response = agent(stack, who, "POST", "/threads", {})
    assert response.status_code == 200, response.text
    return str(response.json()["thread_id"])


def _wait(stack: LiveStack, who: str, thread_id: str, body: dict[str, Any]) -> Any:
    return agent(stack, who, "POST", f"/threads/{thread_id}/runs/wait", body)


def _runs(stack: LiveStack, who: str, thread_id: str) -> list[Any]:
    return list(agent(stack, who, "GET", f"/threads/{thread_id}/runs").json())


def test_an_end_user_may_set_only_what_the_graph_marks_overridable(stack: LiveStack) -> None:
    # given an assistant whose builder set the tone; `tone` is overridable, `sandbox_egress` is not
    aid = _assistant(stack, tone="formal")
    thread = _thread(stack, "enduser")
    # when the end user overrides the tone, the run uses it
    ok = _wait(stack, "enduser", thread, {"assistant_id": aid, "input": {}, "context": {"tone": "warm"}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["seen"]["tone"] == "warm"
    # when they try the guardrail through context, configurable, a command or a webhook
    attempts = [
        {"context": {"sandbox_egress": EGRESS}},
        {"config": {"configurable": {"sandbox_egress": EGRESS}}},
        {"config": {"configurable": {"model": "openai:gpt-4.1"}}},
        {"command": {"goto": "settings"}},
        {"command": {"update": {"seen": {"forged": True}}}},
        {"webhook": "https://hooks.example/x"},
    ]
    statuses = [
        _wait(stack, "enduser", thread, {"assistant_id": aid, "input": {}, **a}).status_code for a in attempts
    ]
    # then each is refused before any run is created
    assert statuses == [403] * len(attempts)
    assert len(_runs(stack, "enduser", thread)) == 1
    # and a builder may (a run is theirs to configure)
    builder = _thread(stack, "editor")
    tuned = _wait(stack, "editor", builder, {"assistant_id": aid, "input": {}, "context": {"tone": "terse"}})
    assert tuned.json()["seen"]["tone"] == "terse"


def test_an_end_user_cannot_write_a_threads_state_as_a_node(stack: LiveStack) -> None:
    aid = _assistant(stack)
    thread = _thread(stack, "enduser")
    assert _wait(stack, "enduser", thread, {"assistant_id": aid, "input": {}}).status_code == 200
    before = agent(stack, "enduser", "GET", f"/threads/{thread}/state").json()
    forged = {"values": {"seen": {"forged": True}}, "as_node": "settings"}
    refused = agent(stack, "enduser", "POST", f"/threads/{thread}/state", forged)
    assert refused.status_code == 403, refused.text
    assert agent(stack, "enduser", "GET", f"/threads/{thread}/state").json()["values"] == before["values"]


def test_a_run_receives_only_the_secrets_an_admin_granted_to_its_assistant(stack: LiveStack) -> None:
    # given two workspace secrets and an assistant granted one of them
    granted, other = f"GRANTED_{uuid.uuid4().hex[:6].upper()}", f"OTHER_{uuid.uuid4().hex[:6].upper()}"
    for name in (granted, other):
        assert call(stack, "admin", "PUT", f"/secrets/{name}", {"value": f"v-{name}"}).status_code == 200
    aid = _assistant(stack)
    assert call(stack, "admin", "PUT", f"/assistants/{aid}/grants", {"secrets": [granted]}).status_code == 200
    # when a run of it executes
    result = _wait(stack, "enduser", _thread(stack, "enduser"), {"assistant_id": aid, "input": {}})
    # then the graph sees the granted secret and not the other
    names = result.json()["seen"]["secret_names"]
    assert granted in names
    assert other not in names


def test_an_assistant_kept_to_the_team_is_absent_for_end_users(stack: LiveStack) -> None:
    aid = _assistant(stack)
    grants = {"secrets": [], "audience": "team"}
    assert call(stack, "admin", "PUT", f"/assistants/{aid}/grants", grants).status_code == 200
    thread = _thread(stack, "enduser")
    assert agent(stack, "enduser", "GET", f"/assistants/{aid}").status_code == 404
    assert _wait(stack, "enduser", thread, {"assistant_id": aid, "input": {}}).status_code == 404
    listed = agent(stack, "enduser", "POST", "/assistants/search", {"limit": 1000}).json()
    assert aid not in {a["assistant_id"] for a in listed}
    assert agent(stack, "editor", "GET", f"/assistants/{aid}").status_code == 200


def test_a_withdrawn_approval_stops_the_runs_of_assistants_saved_before(stack: LiveStack) -> None:
    # given an approved host and an assistant that uses it
    host = f"h{uuid.uuid4().hex[:8]}.example"
    assert call(stack, "admin", "PUT", "/policy", {"egress_hosts": [host]}).status_code == 200
    aid = _assistant(stack, sandbox_egress=[{"host": host}])
    thread = _thread(stack, "editor")
    assert _wait(stack, "editor", thread, {"assistant_id": aid, "input": {}}).status_code == 200
    # when the admin withdraws it, the next run ends with an error naming it, and runs nothing
    assert call(stack, "admin", "PUT", "/policy", {"egress_hosts": []}).status_code == 200
    failed = _wait(stack, "editor", thread, {"assistant_id": aid, "input": {}})
    assert "not approved" in failed.text
    assert _runs(stack, "editor", thread)[0]["status"] == "error"
    # and a builder's own run settings are held to the policy the same way
    other = _wait(
        stack,
        "editor",
        _thread(stack, "editor"),
        {
            "assistant_id": _assistant(stack),
            "input": {},
            "config": {"configurable": {"sandbox_egress": EGRESS}},
        },
    )
    assert "evil.example" in other.text


def test_a_top_level_config_key_cannot_point_a_run_at_another_thread(stack: LiveStack) -> None:
    # given alice's thread with a message only she should see
    alice = _thread(stack, "enduser")
    said = _wait(
        stack, "enduser", alice, {"assistant_id": "chat", "input": {"messages": [_said("alice 4242")]}}
    )
    assert said.status_code == 200, said.text
    before = agent(stack, "enduser", "GET", f"/threads/{alice}/state").json()["values"]
    # when bob, or a builder, or an assistant's config names her thread (or another user) at the top
    # level of a run's config, which LangGraph would copy over the server's ids
    bob = _thread(stack, "enduser2")
    attempts = [
        ("enduser2", {"config": {"thread_id": alice}}),
        ("enduser2", {"config": {"user_id": "1", "checkpoint_id": "x"}}),
        ("editor", {"config": {"thread_id": alice}}),
    ]
    for who, extra in attempts:
        body = {"assistant_id": "chat", "input": {"messages": [_said("bob")]}, **extra}
        response = _wait(stack, who, _thread(stack, who) if who != "enduser2" else bob, body)
        # then it is a 422 naming the key, and nothing reached her thread
        assert response.status_code == 422, response.text
        assert "is not a config key" in response.text
    created = agent(
        stack, "editor", "POST", "/assistants", {"graph_id": "chat", "config": {"thread_id": alice}}
    )
    assert created.status_code == 422, created.text
    assert agent(stack, "enduser", "GET", f"/threads/{alice}/state").json()["values"] == before
    assert "alice 4242" not in agent(stack, "enduser2", "GET", f"/threads/{bob}/state").text


def test_an_end_user_cannot_create_a_thread_with_state_written_as_a_node(stack: LiveStack) -> None:
    thread_id = str(uuid.uuid4())
    body = {
        "thread_id": thread_id,
        "graph_id": "settings",
        "supersteps": [{"updates": [{"values": {"seen": {"forged": True}}, "as_node": "settings"}]}],
    }
    refused = agent(stack, "enduser", "POST", "/threads", body)
    assert refused.status_code == 403, refused.text
    assert agent(stack, "enduser", "GET", f"/threads/{thread_id}").status_code == 404


def _said(text: str) -> dict[str, str]:
    return {"type": "human", "content": text}
