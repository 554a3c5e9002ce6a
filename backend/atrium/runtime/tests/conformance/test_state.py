"""§1.3 thread state and history: history order and filters, state at a checkpoint, update_state,
forking from a checkpoint (rows 13-16)."""

from __future__ import annotations

import itertools
import uuid

import httpx
import pytest
from langgraph_sdk.errors import NotFoundError

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import CHAT_INPUT, REPLY, new_thread


async def _chat_thread(stack: LiveStack) -> str:
    client = stack.client()
    tid = await new_thread(client)
    await client.runs.wait(tid, "chat", input=CHAT_INPUT)
    return tid


async def test_history_is_newest_first_and_chained(stack: LiveStack) -> None:
    """Row 13."""
    client = stack.client()
    tid = await _chat_thread(stack)
    history = await client.threads.get_history(tid, limit=100)
    assert len(history) >= 3
    for newer, older in itertools.pairwise(history):
        assert newer["parent_checkpoint"]["checkpoint_id"] == older["checkpoint"]["checkpoint_id"]
    oldest = history[-1]
    assert oldest["parent_checkpoint"] is None
    assert oldest["metadata"]["source"] == "input"
    assert history[0]["next"] == []
    assert history[0]["values"]["messages"][-1]["content"] == REPLY
    for state in history:
        assert {
            "values",
            "next",
            "tasks",
            "metadata",
            "created_at",
            "checkpoint",
            "parent_checkpoint",
        } <= set(state)
        assert state["checkpoint"]["thread_id"] == tid
        assert state["checkpoint"]["checkpoint_ns"] == ""

    only_inputs = await client.threads.get_history(tid, limit=100, metadata={"source": "input"})
    assert only_inputs
    assert all(state["metadata"]["source"] == "input" for state in only_inputs)
    assert len(only_inputs) < len(history)
    assert len(await client.threads.get_history(tid, limit=1)) == 1


async def test_history_before_accepts_every_client_form(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§1.3 `before`: a checkpoint object, a bare id, or `{configurable: {...}}` (useStream, C13)."""
    client = stack.client()
    tid = await _chat_thread(stack)
    history = await client.threads.get_history(tid, limit=100)
    head = history[0]["checkpoint"]
    expected = [state["checkpoint"]["checkpoint_id"] for state in history[1:]]
    forms = [
        head,
        head["checkpoint_id"],
        {"configurable": {"checkpoint_id": head["checkpoint_id"]}},
    ]
    for before in forms:
        response = await http.post(f"/threads/{tid}/history", json={"limit": 100, "before": before})
        assert response.status_code == 200, (before, response.text)
        assert [s["checkpoint"]["checkpoint_id"] for s in response.json()] == expected


async def test_history_of_a_subgraph_namespace_is_an_array(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """C13: `{"limit":1,"checkpoint":{"checkpoint_ns":"tools:x"}}` answers 200 with an array."""
    tid = await _chat_thread(stack)
    response = await http.post(
        f"/threads/{tid}/history", json={"limit": 1, "checkpoint": {"checkpoint_ns": "tools:x"}}
    )
    assert response.status_code == 200
    assert isinstance(response.json(), list)


async def test_legacy_get_history(stack: LiveStack, http: httpx.AsyncClient) -> None:
    tid = await _chat_thread(stack)
    response = await http.get(f"/threads/{tid}/history")
    assert response.status_code == 200
    assert len(response.json()) == 1
    response = await http.get(f"/threads/{tid}/history?limit=2")
    assert len(response.json()) == 2


async def test_state_at_a_checkpoint(stack: LiveStack) -> None:
    """Row 14: by checkpoint object (POST /state/checkpoint) and by id (GET /state/{id})."""
    client = stack.client()
    tid = await _chat_thread(stack)
    history = await client.threads.get_history(tid, limit=100)
    oldest = history[-1]
    by_object = await client.threads.get_state(tid, checkpoint=oldest["checkpoint"])
    assert by_object["checkpoint"]["checkpoint_id"] == oldest["checkpoint"]["checkpoint_id"]
    assert by_object["values"] == oldest["values"]
    by_id = await client.threads.get_state(tid, checkpoint_id=history[1]["checkpoint"]["checkpoint_id"])
    assert by_id["checkpoint"]["checkpoint_id"] == history[1]["checkpoint"]["checkpoint_id"]
    assert by_id["values"] == history[1]["values"]
    with pytest.raises(NotFoundError):
        await client.threads.get_state(tid, checkpoint_id=str(uuid.uuid4()))


async def test_state_of_an_interrupted_subgraph_thread_with_subgraphs(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    await client.runs.wait(tid, "approver", input=CHAT_INPUT)
    state = await client.threads.get_state(tid, subgraphs=True)
    assert state["next"] == ["approve"]
    assert state["tasks"][0]["name"] == "approve"
    assert state["tasks"][0]["interrupts"][0]["value"] == {"question": "approve?"}


async def test_update_state(stack: LiveStack) -> None:
    """Row 16."""
    client = stack.client()
    tid = await _chat_thread(stack)
    result = await client.threads.update_state(
        tid, {"messages": [{"type": "ai", "content": "edited", "id": "edit-1"}]}, as_node="agent"
    )
    assert set(result) == {"checkpoint"}
    assert result["checkpoint"]["thread_id"] == tid
    assert result["checkpoint"]["checkpoint_ns"] == ""
    state = await client.threads.get_state(tid)
    assert state["checkpoint"]["checkpoint_id"] == result["checkpoint"]["checkpoint_id"]
    assert state["values"]["messages"][-1]["content"] == "edited"
    assert state["metadata"]["source"] == "update"
    thread = await client.threads.get(tid)
    assert thread["values"]["messages"][-1]["content"] == "edited"


async def test_update_state_at_an_older_checkpoint_forks(stack: LiveStack) -> None:
    client = stack.client()
    tid = await _chat_thread(stack)
    history = await client.threads.get_history(tid, limit=100)
    first_input = history[-2]  # the state after the input was applied, before `agent` ran
    result = await client.threads.update_state(
        tid,
        {"messages": [{"type": "human", "content": "other", "id": "other-1"}]},
        checkpoint=first_input["checkpoint"],
    )
    state = await client.threads.get_state(tid)
    assert state["checkpoint"]["checkpoint_id"] == result["checkpoint"]["checkpoint_id"]
    assert state["parent_checkpoint"]["checkpoint_id"] == first_input["checkpoint"]["checkpoint_id"]


async def test_run_from_an_old_checkpoint_forks(stack: LiveStack) -> None:
    """Row 15: the result starts from the fork point; the old branch stays in the history."""
    client = stack.client()
    tid = await _chat_thread(stack)
    history = await client.threads.get_history(tid, limit=100)
    root = history[-1]
    edited = {"type": "human", "content": "edited", "id": "edited-1"}
    result = await client.runs.wait(tid, "chat", input={"messages": [edited]}, checkpoint=root["checkpoint"])
    assert [m["content"] for m in result["messages"]] == ["edited", REPLY]
    new_history = await client.threads.get_history(tid, limit=100)
    assert len(new_history) > len(history)
    siblings = [
        s
        for s in new_history
        if (s["parent_checkpoint"] or {}).get("checkpoint_id") == root["checkpoint"]["checkpoint_id"]
    ]
    assert len(siblings) == 2

    by_id = await client.runs.wait(
        tid, "chat", input={"messages": [edited]}, checkpoint_id=root["checkpoint"]["checkpoint_id"]
    )
    assert [m["content"] for m in by_id["messages"]] == ["edited", REPLY]


async def test_patch_state_merges_head_checkpoint_metadata(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§1.3/§6: `PATCH /threads/{id}/state` (JS `patchState`) answers 204 and patches the head's metadata."""
    client = stack.client()
    tid = await _chat_thread(stack)
    head = await client.threads.get_state(tid)
    response = await http.patch(f"/threads/{tid}/state", json={"metadata": {"reviewed": True}})
    assert response.status_code == 204
    state = await client.threads.get_state(tid)
    assert state["checkpoint"]["checkpoint_id"] == head["checkpoint"]["checkpoint_id"]
    assert state["metadata"]["reviewed"] is True
    assert state["metadata"]["source"] == head["metadata"]["source"]
    fresh = await new_thread(client)
    assert (await http.patch(f"/threads/{fresh}/state", json={"metadata": {"x": 1}})).status_code == 404
