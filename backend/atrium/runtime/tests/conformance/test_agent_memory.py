"""The deep agent's memory through the runtime: a user's memories follow them across threads and
reach nobody else (not another user of the org, not another org, not through the store API); org
memory is curated by admins through the store API and only read by the agent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph_sdk.errors import NotFoundError, PermissionDeniedError

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


async def test_a_users_memory_follows_them_and_no_one_else(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    # given an assistant of org a and a fact user A (the editor) asks it to remember in one thread
    a, b, other = stack.client("editor"), stack.client("editor2"), stack.client("other")
    fact = f"the gate code is {uuid.uuid4().hex[:6]}"
    assistant_id = await agent_assistant(a)
    _, saved = await say(a, assistant_id, f"remember that {fact}")
    assert reply(saved) == f"I will remember that {fact}."

    # when A asks in a new thread, the agent recalls it
    _, recalled = await say(a, assistant_id, "what do you remember")
    assert f"- {fact}" in reply(recalled).splitlines()

    # and the fact is in A's namespace of the store, as A sees it
    a_memories = identities["editor"].user_memories()
    item = await a.store.get_item(a_memories, key=NOTES)
    assert f"- {fact}" in item["value"]["content"].splitlines()

    # then user B of the same org, on the same assistant, does not get it from the agent
    _, b_recalled = await say(b, assistant_id, "what do you remember")
    assert fact not in reply(b_recalled)
    # nor from the store API: A's namespace is not theirs to read
    assert (await b.store.search_items(a_memories))["items"] == []
    with pytest.raises(NotFoundError):
        await b.store.get_item(a_memories, key=NOTES)

    # and a user of another org, on an assistant of their own, gets nothing either
    other_assistant = await agent_assistant(other)
    _, other_recalled = await say(other, other_assistant, "what do you remember")
    assert fact not in reply(other_recalled)
    assert (await other.store.search_items(a_memories))["items"] == []
    with pytest.raises(NotFoundError):
        await other.store.get_item(a_memories, key=NOTES)
    # nor through the other org's own view of the same labels
    other_memories = identities["other"].user_memories()
    other_items = (await other.store.search_items(other_memories))["items"]
    assert all(fact not in str(i["value"]) for i in other_items)


async def test_org_memory_is_written_by_admins_and_only_read_by_the_agent(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    admin, editor = stack.client("admin"), stack.client("editor")
    org_memories = identities["editor"].org_memories()
    assistant_id = await agent_assistant(editor)

    # given the agent is asked to write org memory, the write is refused and nothing is stored
    attempt = f"deploys freeze on {uuid.uuid4().hex[:6]}"
    _, refused = await say(editor, assistant_id, f"remember for the org that {attempt}")
    assert reply(refused).startswith("I could not save that:")
    stored = await admin.store.search_items(org_memories)
    assert all(attempt not in str(i["value"]) for i in stored["items"])

    # and an editor may not write there through the store API either
    with pytest.raises(PermissionDeniedError):
        await editor.store.put_item(org_memories, NOTES, {"content": "- nope\n", "encoding": "utf-8"})

    # when an org admin writes org memory through the store API
    policy = f"expenses need two approvals ({uuid.uuid4().hex[:6]})"
    await admin.store.put_item(org_memories, NOTES, {"content": f"- {policy}\n", "encoding": "utf-8"})

    # then the agent reads it, for any member
    _, recalled = await say(editor, assistant_id, "what does the org remember")
    assert f"- {policy}" in reply(recalled).splitlines()
    _, recalled_b = await say(stack.client("editor2"), assistant_id, "what does the org remember")
    assert f"- {policy}" in reply(recalled_b).splitlines()
