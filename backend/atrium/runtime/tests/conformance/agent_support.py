"""Shared pieces of the deep agent's integration rows (`test_agent_*.py`): who the seeded keys act as,
assistants of the shipped `agent` graph with settings in their context, and reading the agent's reply."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from langgraph_sdk.client import LangGraphClient

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import new_thread

NOTES = "/notes.md"  # the offline model's notes file, as a store key below each memory prefix
_identities: dict[str, dict[str, Identity]] = {}


@dataclass(frozen=True)
class Identity:
    user_id: str
    org_id: str

    def user_memories(self) -> list[str]:
        return ["org", self.org_id, "user", self.user_id, "memories"]

    def org_memories(self) -> list[str]:
        return ["org", self.org_id, "memories"]


def identities_of(live_stack: LiveStack, django_db_blocker: Any) -> dict[str, Identity]:
    """The user and org each seeded API key acts as, read from the test database (once per stack).
    Sync: call it before a test's event loop work, or from a sync test."""
    from django.db import connection

    from atrium.orgs.keys import parse_prefix

    if live_stack.url not in _identities:
        found = {}
        with django_db_blocker.unblock(), connection.cursor() as cur:
            for who, key in live_stack.keys.items():
                cur.execute("SELECT user_id, org_id FROM orgs_apikey WHERE prefix = %s", [parse_prefix(key)])
                user_id, org_id = cur.fetchone()
                found[who] = Identity(user_id=str(user_id), org_id=str(org_id))
        _identities[live_stack.url] = found
    return _identities[live_stack.url]


async def agent_assistant(client: LangGraphClient, **settings: Any) -> str:
    """A fresh assistant of the shipped `agent` graph with `settings` as its context."""
    assistant = await client.assistants.create(
        graph_id="agent", context=settings, name=f"agent-{uuid.uuid4().hex[:8]}"
    )
    return str(assistant["assistant_id"])


async def say(client: LangGraphClient, assistant_id: str, text: str, *, thread_id: str | None = None) -> Any:
    """Send one human message and wait for the run; returns (thread id, final values)."""
    tid = thread_id or await new_thread(client)
    values = await client.runs.wait(
        tid, assistant_id, input={"messages": [{"type": "human", "content": text}]}, raise_error=False
    )
    return tid, values


def reply(values: Any) -> str:
    """The text of the last message of a run's final values."""
    assert isinstance(values, dict), values
    assert values.get("messages"), values
    content = values["messages"][-1]["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)
