"""Human-in-the-loop through the runtime: with `interrupt_on: ["write_file"]`, "remember ... that X"
pauses before the write; resuming with a decision (approve / edit / reject) through the API decides
what reaches the store."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient

from atrium.runtime.tests.conformance.agent_support import (
    NOTES,
    Identity,
    agent_assistant,
    identities_of,
    reply,
    say,
)
from atrium.runtime.tests.conformance.conftest import LiveStack


@pytest.fixture
def identities(live_stack: LiveStack, django_db_blocker: Any) -> dict[str, Identity]:
    return identities_of(live_stack, django_db_blocker)


ASSISTANT_NOTES = "/memories/assistant/notes.md"


async def _paused_write(client: LangGraphClient, fact: str) -> tuple[str, str, dict[str, Any]]:
    """An approval-gated assistant asked to remember `fact` (in its own, fresh memory): the run stops
    before `write_file`. Returns the assistant, the thread and the pending request."""
    assistant_id = await agent_assistant(client, interrupt_on=["write_file"])
    tid, values = await say(client, assistant_id, f"remember for this assistant that {fact}")
    assert [i["value"] for i in values["__interrupt__"]] == [(await _pending(client, tid))]
    return assistant_id, tid, await _pending(client, tid)


async def _pending(client: LangGraphClient, tid: str) -> dict[str, Any]:
    assert (await client.threads.get(tid))["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    requests = [i["value"] for task in state["tasks"] for i in task["interrupts"]]
    assert len(requests) == 1, state["tasks"]
    return dict(requests[0])


async def _decide(client: LangGraphClient, assistant_id: str, tid: str, decision: dict[str, Any]) -> Any:
    values = await client.runs.wait(tid, assistant_id, command={"resume": {"decisions": [decision]}})
    assert (await client.threads.get(tid))["status"] == "idle"
    return values


def _memories(identity: Identity, assistant_id: str) -> list[str]:
    return ["org", identity.org_id, "assistant", assistant_id, "memories"]


async def test_the_write_waits_for_approval_then_happens(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    client = stack.client()
    fact = f"the wifi password is {uuid.uuid4().hex[:6]}"

    # given a run paused before the write, carrying the HumanInTheLoopMiddleware request
    assistant_id, tid, request = await _paused_write(client, fact)
    assert request["action_requests"] == [
        {
            "name": "write_file",
            "args": {"file_path": ASSISTANT_NOTES, "content": f"- {fact}\n"},
            "description": request["action_requests"][0]["description"],
        }
    ]
    assert request["review_configs"] == [
        {"action_name": "write_file", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    namespace = _memories(identities["editor"], assistant_id)
    assert await client.store.get_item(namespace, key=NOTES) is None

    # when it is approved
    values = await _decide(client, assistant_id, tid, {"type": "approve"})

    # then the write happened as requested
    assert reply(values) == f"I will remember that {fact}."
    item = await client.store.get_item(namespace, key=NOTES)
    assert item["value"]["content"] == f"- {fact}\n"


async def test_an_edited_write_happens_with_the_edited_arguments(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    client = stack.client()
    assistant_id, tid, _ = await _paused_write(client, "the door code is 1234")

    # when a reviewer edits the content before approving
    edited = {"file_path": ASSISTANT_NOTES, "content": "- the door code is on the intranet\n"}
    values = await _decide(
        client, assistant_id, tid, {"type": "edit", "edited_action": {"name": "write_file", "args": edited}}
    )

    # then the edited content is what was stored, and the original never was
    item = await client.store.get_item(_memories(identities["editor"], assistant_id), key=NOTES)
    assert item["value"]["content"] == "- the door code is on the intranet\n"
    # the model's own call stays in its message (LangChain's HITL records it so); the tool result
    # tells the model a reviewer replaced it
    results = [m for m in values["messages"] if m["type"] == "tool" and m["name"] == "write_file"]
    assert len(results) == 1
    assert "human reviewer replaced this tool call" in results[0]["content"]


async def test_a_rejected_write_does_not_happen(stack: LiveStack, identities: dict[str, Identity]) -> None:
    client = stack.client()
    assistant_id, tid, _ = await _paused_write(client, "the safe combination is 9-9-9")

    # when a reviewer rejects the call
    values = await _decide(client, assistant_id, tid, {"type": "reject", "message": "not in shared memory"})

    # then nothing was written, and the agent was told why
    namespace = _memories(identities["editor"], assistant_id)
    assert await client.store.get_item(namespace, key=NOTES) is None
    assert (await client.store.search_items(namespace))["items"] == []
    results = [m for m in values["messages"] if m["type"] == "tool" and m["name"] == "write_file"]
    assert len(results) == 1
    assert "not in shared memory" in results[0]["content"]
    assert "safe combination" not in str((await client.store.search_items(namespace))["items"])
