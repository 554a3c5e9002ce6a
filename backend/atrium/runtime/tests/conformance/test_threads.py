"""§1.2 threads: create, get, update, delete, search, count, copy, prune (rows 4-7, 30, 31)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import is_uuid, new_thread


async def test_create_thread(stack: LiveStack) -> None:
    """Row 4."""
    client = stack.client()
    thread = await client.threads.create(metadata={"suite": "conf", "k": "v"})
    assert is_uuid(thread["thread_id"])
    assert thread["status"] == "idle"
    assert thread["metadata"]["suite"] == "conf"
    assert thread["metadata"]["k"] == "v"
    for field in ("created_at", "updated_at", "state_updated_at", "config", "values", "interrupts"):
        assert field in thread


async def test_create_with_id_twice_conflicts_or_returns_existing(stack: LiveStack) -> None:
    """Row 5."""
    client = stack.client()
    tid = str(uuid.uuid4())
    first = await client.threads.create(thread_id=tid, metadata={"n": 1})
    assert first["thread_id"] == tid
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=tid)
    again = await client.threads.create(thread_id=tid, if_exists="do_nothing", metadata={"n": 2})
    assert again["thread_id"] == tid
    assert again["metadata"]["n"] == 1


async def test_create_with_ttl_reports_it_when_included(stack: LiveStack) -> None:
    client = stack.client()
    thread = await client.threads.create(ttl=30)
    got = await client.threads.get(thread["thread_id"], include=["ttl"])
    assert got["ttl"]["strategy"] == "delete"
    assert got["ttl"]["ttl_minutes"] == 30
    assert got["ttl"]["expires_at"]


async def test_create_with_supersteps_seeds_state(stack: LiveStack) -> None:
    client = stack.client()
    thread = await client.threads.create(
        metadata={"graph_id": "simple"},
        supersteps=[{"updates": [{"values": {"steps": ["seeded"]}, "as_node": "first"}]}],
    )
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["steps"] == ["seeded"]
    assert state["next"] == ["second"]


async def test_search_and_count(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 6, with the pagination headers of §0."""
    client = stack.client()
    tag = uuid.uuid4().hex
    tids = [await new_thread(client, tag=tag) for _ in range(3)]
    found = await client.threads.search(metadata={"tag": tag}, limit=10)
    assert sorted(t["thread_id"] for t in found) == sorted(tids)
    assert await client.threads.count(metadata={"tag": tag}) == 3
    assert await client.threads.count(metadata={"tag": tag}, status="idle") == 3
    assert await client.threads.count(metadata={"tag": tag}, status="busy") == 0
    newest_first = await client.threads.search(metadata={"tag": tag}, sort_by="created_at", sort_order="desc")
    assert [t["thread_id"] for t in newest_first] == list(reversed(tids))
    by_ids = await client.threads.search(ids=tids[:2])
    assert sorted(t["thread_id"] for t in by_ids) == sorted(tids[:2])
    selected = await client.threads.search(metadata={"tag": tag}, select=["thread_id", "status"], limit=1)
    assert set(selected[0]) == {"thread_id", "status"}

    response = await http.post(
        "/threads/search",
        json={"metadata": {"tag": tag}, "limit": 2, "offset": 0},
    )
    assert response.status_code == 200
    assert response.headers["X-Pagination-Total"] == "3"
    assert response.headers["X-Pagination-Next"] == "2"
    last_page = await http.post(
        "/threads/search",
        json={"metadata": {"tag": tag}, "limit": 2, "offset": 2},
    )
    assert len(last_page.json()) == 1
    assert "X-Pagination-Next" not in last_page.headers


async def test_search_by_values_and_extract(stack: LiveStack) -> None:
    client = stack.client()
    tag = uuid.uuid4().hex
    tid = await new_thread(client, tag=tag)
    await client.runs.wait(tid, "simple", input={"messages": [{"type": "human", "content": "x"}]})
    found = await client.threads.search(values={"steps": ["first", "second", "third"]}, metadata={"tag": tag})
    assert [t["thread_id"] for t in found] == [tid]
    extracted = await client.threads.search(
        metadata={"tag": tag}, extract={"last": "values.messages[-1].content"}
    )
    assert extracted[0]["extracted"] == {"last": "x"}


async def test_get_state_of_fresh_thread(stack: LiveStack) -> None:
    """Row 7."""
    client = stack.client()
    tid = await new_thread(client)
    state = await client.threads.get_state(tid)
    assert state["next"] == []
    assert state["tasks"] == []
    assert state["checkpoint"] is None
    assert state["values"] in ({}, None, [])


async def test_copy_then_delete(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 30."""
    client = stack.client()
    tid = await new_thread(client)
    await client.runs.wait(tid, "simple", input={"steps": []})
    copy = await client.threads.copy(tid)
    assert copy["thread_id"] != tid
    original_state = await client.threads.get_state(tid)
    copied_state = await client.threads.get_state(copy["thread_id"])
    assert copied_state["values"] == original_state["values"]
    assert copied_state["checkpoint"]["checkpoint_id"] == original_state["checkpoint"]["checkpoint_id"]
    copied_history = await client.threads.get_history(copy["thread_id"], limit=100)
    assert len(copied_history) == len(await client.threads.get_history(tid, limit=100))

    response = await http.delete(f"/threads/{copy['thread_id']}")
    assert response.status_code == 204
    with pytest.raises(NotFoundError):
        await client.threads.get(copy["thread_id"])
    assert (await client.threads.get(tid))["thread_id"] == tid


async def test_update_merges_metadata_and_return_minimal(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 31, and §1.2's shallow merge."""
    client = stack.client()
    thread = await client.threads.create(metadata={"a": 1, "b": 2})
    updated = await client.threads.update(thread["thread_id"], metadata={"b": 3, "c": None})
    assert updated["metadata"]["a"] == 1
    assert updated["metadata"]["b"] == 3
    assert "c" in updated["metadata"]
    assert await client.threads.update(thread["thread_id"], metadata={"d": 4}, return_minimal=True) is None
    response = await http.patch(
        f"/threads/{thread['thread_id']}",
        headers={"Prefer": "return=minimal"},
        json={"metadata": {"e": 5}},
    )
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.threads.get(thread["thread_id"]))["metadata"]["e"] == 5


async def test_delete_missing_thread_is_404(stack: LiveStack) -> None:
    client = stack.client()
    with pytest.raises(NotFoundError):
        await client.threads.delete(str(uuid.uuid4()))


async def test_prune(stack: LiveStack) -> None:
    client = stack.client()
    keep = await new_thread(client)
    await client.runs.wait(keep, "simple", input={"steps": []})
    assert len(await client.threads.get_history(keep, limit=100)) > 1
    gone = await new_thread(client)
    result = await client.threads.prune([keep], strategy="keep_latest")
    assert result == {"pruned_count": 1}
    history = await client.threads.get_history(keep, limit=100)
    assert len(history) == 1
    assert history[0]["values"]["steps"] == ["first", "second", "third"]
    assert await client.threads.prune([gone]) == {"pruned_count": 1}
    with pytest.raises(NotFoundError):
        await client.threads.get(gone)
    with pytest.raises(UnprocessableEntityError):
        await client.threads.prune([keep], strategy="bogus")  # type: ignore[arg-type]


async def test_malformed_thread_id_is_422(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 26 (first part) and §0 IDs."""
    client = stack.client()
    with pytest.raises(UnprocessableEntityError):
        await client.threads.get("not-a-uuid")
    response = await http.get("/threads/not-a-uuid")
    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid thread ID: must be a UUID"}
