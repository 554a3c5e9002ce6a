"""PII is never stored raw: with an email `redact` rule on the assistant, a message holding an email
leaves no raw copy anywhere the platform persists it: LangGraph's checkpoint tables, the run's row
(its input and result), the thread's cached values, the store, and the Redis event streams."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from atrium.runtime.tests.live_stack import LiveStack
from atrium.runtime.tests.persisted import postgres_hits as _postgres_hits
from atrium.runtime.tests.persisted import redis_hits as _redis_hits

PII_RULES = [{"type": "email", "strategy": "redact"}]


@pytest.fixture
def email() -> str:
    return f"jane.{uuid.uuid4().hex[:10]}@example.com"


def test_an_email_is_redacted_everywhere_it_is_persisted(
    stack: LiveStack, django_db_blocker: Any, email: str
) -> None:
    # given an assistant that redacts emails
    client = stack.sync_client()
    assistant = client.assistants.create(graph_id="agent", context={"pii_rules": PII_RULES})
    thread = client.threads.create()

    # when a user streams a run whose message holds an email (every stream mode the events log keeps)
    parts = list(
        client.runs.stream(
            thread["thread_id"],
            assistant["assistant_id"],
            input={"messages": [{"type": "human", "content": f"write to {email} about the invoice"}]},
            stream_mode=["values", "updates", "messages-tuple", "debug", "tasks", "checkpoints"],
        )
    )

    # then the agent worked on the redacted text
    assert "error" not in [p.event for p in parts]
    state = client.threads.get_state(thread["thread_id"])
    human, answer = state["values"]["messages"][0], state["values"]["messages"][-1]
    assert human["content"] == "write to [REDACTED_EMAIL] about the invoice"
    assert answer["content"] == "You said: write to [REDACTED_EMAIL] about the invoice"
    # and no raw copy is left in Postgres or in Redis
    assert _postgres_hits(email, django_db_blocker) == []
    assert _redis_hits(email) == []
    # (the scan itself finds what is there: the redacted text is)
    assert "runtime_run" in _postgres_hits("[REDACTED_EMAIL]", django_db_blocker)


def test_a_state_update_and_an_edited_approval_are_redacted_too(
    stack: LiveStack, django_db_blocker: Any, email: str
) -> None:
    # given a thread of an assistant that redacts emails and asks before writing files
    client = stack.sync_client()
    assistant = client.assistants.create(
        graph_id="agent", context={"pii_rules": PII_RULES, "interrupt_on": ["write_file"]}
    )
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, assistant["assistant_id"], input={"messages": [{"type": "human", "content": "hi"}]})

    # when a client adds a message holding an email through the state API
    client.threads.update_state(tid, {"messages": [{"type": "human", "content": f"cc {email}"}]})

    # then the thread holds it redacted
    state = client.threads.get_state(tid)
    assert state["values"]["messages"][-1]["content"] == "cc [REDACTED_EMAIL]"

    # when a write waits for approval and the reviewer edits an email into it
    paused = client.runs.wait(
        tid, assistant["assistant_id"], input={"messages": [{"type": "human", "content": "remember that hi"}]}
    )
    assert isinstance(paused, dict)
    assert paused["__interrupt__"]
    client.runs.wait(
        tid,
        assistant["assistant_id"],
        command={
            "resume": {
                "decisions": [
                    {
                        "type": "edit",
                        "edited_action": {
                            "name": "write_file",
                            "args": {"file_path": "/notes.md", "content": f"- mail {email}\n"},
                        },
                    }
                ]
            }
        },
    )

    # then the edited write happened, redacted, and neither the update nor the resume left a raw copy
    files = client.threads.get_state(tid)["values"]["files"]
    assert "[REDACTED_EMAIL]" in str(files["/notes.md"])
    assert _postgres_hits(email, django_db_blocker) == []
    assert _redis_hits(email) == []
