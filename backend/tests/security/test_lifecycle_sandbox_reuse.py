"""A thread deleted and created again under the same id (clients choose thread ids) is a new
conversation: its agent must not find the deleted thread's sandbox and files (issue 18, lifecycle).
Sandboxes are labelled with the thread's generation, and the old one is swept as an orphan."""

from __future__ import annotations

import shutil
import uuid
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.live_stack import LiveStack

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

NOTE = "/workspace/note.txt"


def _say(stack: LiveStack, thread_id: str, assistant_id: str, command: str) -> str:
    values = stack.sync_client("editor").runs.wait(
        thread_id,
        assistant_id,
        input={"messages": [{"type": "human", "content": f"run `{command}`"}]},
    )
    return str(values["messages"][-1]["content"])


def _artifacts(stack: LiveStack, slug: str, thread_id: str) -> list[str]:
    response = httpx.get(
        f"{stack.base_url}/api/v1/orgs/{slug}/threads/{thread_id}/artifacts",
        headers=stack.headers("editor"),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [artifact["path"] for artifact in response.json()]


def _sandboxes_of(thread_id: str) -> list[Any]:
    from atrium.runtime.services.sandboxes import sandbox_provider

    return [info for info in sandbox_provider().list_sandboxes() if info.labels.get("thread_id") == thread_id]


def test_a_thread_created_again_under_a_deleted_ones_id_does_not_get_its_files(
    stack: LiveStack, django_db_blocker: Any
) -> None:
    client = stack.sync_client("editor")
    slug = stack.org_slug("editor")
    assistant = client.assistants.create(graph_id="agent", context={"model": "offline", "sandbox": "thread"})
    thread_id = str(uuid.uuid4())

    # given thread X whose agent wrote a file in its sandbox
    client.threads.create(thread_id=thread_id)
    assert "Command failed" not in _say(stack, thread_id, assistant["assistant_id"], f"echo secret > {NOTE}")
    assert _artifacts(stack, slug, thread_id) == ["note.txt"]
    (old,) = _sandboxes_of(thread_id)

    # when X is deleted and someone creates X again
    client.threads.delete(thread_id)
    client.threads.create(thread_id=thread_id)

    # then the new X sees no file, in its artifacts nor from its agent's sandbox
    assert _artifacts(stack, slug, thread_id) == []
    output = _say(stack, thread_id, assistant["assistant_id"], f"cat {NOTE}")
    assert "secret" not in output
    assert "No such file or directory" in output
    assert "thread_generation" in old.labels
    assert len({info.id for info in _sandboxes_of(thread_id)} - {old.id}) == 1  # its own, new sandbox

    # and the sweep deletes the old generation's sandbox, keeping the new one
    from atrium.runtime.services.sandboxes import sandboxes_expire

    with django_db_blocker.unblock():
        deleted = sandboxes_expire()
    assert old.id in deleted
    remaining = _sandboxes_of(thread_id)
    assert len(remaining) == 1
    assert remaining[0].labels["thread_generation"] != old.labels["thread_generation"]
