"""A run's `command` is input too: the `goto` Send's input, the `update` and the `resume` values go
through the assistant's PII rules before anything is checkpointed, as a run's `input` does."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from atrium.runtime.tests.live_stack import LiveStack
from atrium.runtime.tests.persisted import postgres_hits, redis_hits

PII_RULES = [{"type": "email", "strategy": "redact"}]


def test_a_goto_send_and_an_update_reach_no_checkpoint_raw(stack: LiveStack, django_db_blocker: Any) -> None:
    # given a thread of an assistant that redacts emails
    email = f"jane.{uuid.uuid4().hex[:10]}@example.com"
    client = stack.sync_client()
    assistant = client.assistants.create(graph_id="agent", context={"pii_rules": PII_RULES})
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, assistant["assistant_id"], input={"messages": [{"type": "human", "content": "hi"}]})

    # when a client sends a command whose goto Send hands the model node an email, and whose update
    # adds one to the state (the model node takes no JSON messages from a Send, so the run itself
    # fails: what matters is what was stored before it got there)
    command = {
        "update": {"messages": [{"type": "human", "content": f"cc {email}"}]},
        "goto": {"node": "model", "input": {"messages": [{"type": "human", "content": f"mail {email}"}]}},
    }
    with httpx.Client(base_url=stack.url, headers=stack.headers("editor"), timeout=60) as http:
        response = http.post(
            f"/threads/{tid}/runs/wait", json={"assistant_id": assistant["assistant_id"], "command": command}
        )
    assert response.status_code == 200
    assert email not in response.text

    # then the thread's state, its whole history and every stored copy hold it redacted only
    state = client.threads.get_state(tid)
    history = client.threads.get_history(tid, limit=100)
    assert email not in json.dumps(state)
    assert email not in json.dumps(history)
    assert "cc [REDACTED_EMAIL]" in [m["content"] for m in state["values"]["messages"]]
    assert postgres_hits(email, django_db_blocker) == []
    assert redis_hits(email) == []
    # (the scan finds what is there: the redacted command is in the checkpoints)
    assert "checkpoint_writes.blob" in postgres_hits("mail [REDACTED_EMAIL]", django_db_blocker)


def test_a_resume_value_reaches_no_checkpoint_raw(stack: LiveStack, django_db_blocker: Any) -> None:
    # given a run of an assistant that redacts emails, waiting for approval of a file write
    email = f"jane.{uuid.uuid4().hex[:10]}@example.com"
    client = stack.sync_client()
    assistant = client.assistants.create(
        graph_id="agent", context={"pii_rules": PII_RULES, "interrupt_on": ["write_file"]}
    )
    tid = client.threads.create()["thread_id"]
    paused = client.runs.wait(
        tid, assistant["assistant_id"], input={"messages": [{"type": "human", "content": "remember that hi"}]}
    )
    assert isinstance(paused, dict)
    assert paused["__interrupt__"]

    # when the reviewer's resume edits an email into the write
    edit = {"name": "write_file", "args": {"file_path": "/notes.md", "content": f"- mail {email}\n"}}
    client.runs.wait(
        tid,
        assistant["assistant_id"],
        command={"resume": {"decisions": [{"type": "edit", "edited_action": edit}]}},
    )

    # then the write happened redacted, and no stored copy holds the email
    assert "[REDACTED_EMAIL]" in json.dumps(client.threads.get_state(tid)["values"]["files"])
    assert email not in json.dumps(client.threads.get_history(tid, limit=100))
    assert postgres_hits(email, django_db_blocker) == []
    assert redis_hits(email) == []
