"""Workspace secrets reach the model and nothing else: an org admin stores OPENAI_API_KEY, an assistant
uses `openai:*`, and the real worker calls the (fake, loopback) provider with that key, while the key
appears in no checkpoint, run or thread row, store item, Redis stream event, streamed part or log."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.fake_provider import REPLY, FakeProvider
from atrium.runtime.tests.conformance.test_agent_pii import _postgres_hits, _redis_hits


def _set_secret(stack: LiveStack, name: str, value: str) -> str:
    slug = stack.org_slug()
    response = httpx.put(
        f"{stack.base_url}/api/v1/orgs/{slug}/secrets/{name}",
        json={"value": value},
        headers=stack.headers("admin"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert value not in response.text
    return slug


def test_the_orgs_model_key_reaches_the_provider_and_is_stored_nowhere(
    stack: LiveStack, fake_provider: FakeProvider, django_db_blocker: Any
) -> None:
    # given an org whose admin stored a model provider key, and an assistant on an OpenAI model
    key = f"sk-conformance-{uuid.uuid4().hex}"
    slug = _set_secret(stack, "OPENAI_API_KEY", key)
    client = stack.sync_client("editor")
    assistant = client.assistants.create(graph_id="agent", context={"model": "openai:gpt-fake"})
    stack.admin_approve(assistant["assistant_id"], secrets=["OPENAI_API_KEY"])
    thread = client.threads.create()
    seen_before = len(fake_provider.requests)
    try:
        # when an editor streams a run in every mode that carries config or state
        parts = list(
            client.runs.stream(
                thread["thread_id"],
                assistant["assistant_id"],
                input={"messages": [{"type": "human", "content": "say hello"}]},
                stream_mode=[
                    "values",
                    "updates",
                    "messages-tuple",
                    "debug",
                    "tasks",
                    "checkpoints",
                    "events",
                ],
            )
        )
    finally:
        httpx.delete(
            f"{stack.base_url}/api/v1/orgs/{slug}/secrets/OPENAI_API_KEY",
            headers=stack.headers("admin"),
            timeout=10,
        )

    # then the worker called the provider with the org's key, and the agent answered with its reply
    calls = fake_provider.requests[seen_before:]
    assert calls, "the provider was never called"
    assert {r["headers"]["authorization"] for r in calls} == {f"Bearer {key}"}
    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["messages"][-1]["content"] == REPLY
    # and the key is nowhere the platform keeps or sends anything
    assert key not in json.dumps([p.data for p in parts], default=str)
    assert _postgres_hits(key, django_db_blocker) == []
    assert _redis_hits(key) == []
    logs = "".join(path.read_text(errors="replace") for path in stack.log_dir.glob("*.log"))
    assert key not in logs


def test_a_client_cannot_supply_the_secrets_mapping(stack: LiveStack, fake_provider: FakeProvider) -> None:
    # given an org without a model key and an OpenAI assistant
    client = stack.sync_client("editor")
    assistant = client.assistants.create(graph_id="agent", context={"model": "openai:gpt-fake"})
    stack.admin_approve(assistant["assistant_id"], secrets=["OPENAI_API_KEY"])
    seen_before = len(fake_provider.requests)
    # when a client puts its own secrets mapping in the run's config
    result = client.runs.wait(
        None,
        assistant["assistant_id"],
        input={"messages": [{"type": "human", "content": "hi"}]},
        config={"configurable": {"__atrium_secrets": {"OPENAI_API_KEY": "sk-from-the-client"}}},
        raise_error=False,
    )
    # then the run does not use it: no key, so the model cannot be built and nothing reaches the provider
    assert "sk-from-the-client" not in json.dumps(result, default=str)
    assert fake_provider.requests[seen_before:] == []
