"""§5 (adapted to orgs and roles): no credentials is 401; another org's thread, run, assistant,
store item or cron is 404 and never listed; a viewer reads but cannot write (403) (rows 34, 35)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk.errors import AuthenticationError, NotFoundError, PermissionDeniedError

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import new_thread, wait_for_status


async def test_no_credentials_is_401(stack: LiveStack) -> None:
    """Row 34."""
    with pytest.raises(AuthenticationError):
        await stack.client("anonymous").threads.create()
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        response = await anonymous.post("/threads", json={})
        assert response.status_code == 401
        assert isinstance(response.json()["detail"], str)
        bad_key = await anonymous.post("/threads", json={}, headers={"x-api-key": "not-a-key"})
        assert bad_key.status_code == 401


async def test_other_org_sees_nothing(stack: LiveStack) -> None:
    """Row 35: 404 on read, write and run; absent from searches and counts."""
    owner = stack.client("editor")
    other = stack.client("other")
    tag = uuid.uuid4().hex
    tid = await new_thread(owner, tag=tag)
    run = await owner.runs.create(tid, "simple", input={"steps": []})
    await wait_for_status(owner, tid, run["run_id"])
    assistant = await owner.assistants.create(graph_id="simple", metadata={"tag": tag})

    with pytest.raises(NotFoundError):
        await other.threads.get(tid)
    with pytest.raises(NotFoundError):
        await other.threads.get_state(tid)
    with pytest.raises(NotFoundError):
        await other.threads.get_history(tid)
    with pytest.raises(NotFoundError):
        await other.threads.update(tid, metadata={"x": 1})
    with pytest.raises(NotFoundError):
        await other.threads.delete(tid)
    with pytest.raises(NotFoundError):
        await other.runs.create(tid, "simple", input={"steps": []})
    with pytest.raises(NotFoundError):
        await other.runs.get(tid, run["run_id"])
    with pytest.raises(NotFoundError):
        await other.runs.list(tid)
    with pytest.raises(NotFoundError):
        await other.runs.cancel(tid, run["run_id"])
    with pytest.raises(NotFoundError):
        await other.assistants.get(assistant["assistant_id"])
    with pytest.raises(NotFoundError):
        await other.assistants.update(assistant["assistant_id"], metadata={"x": 1})
    assert await other.threads.search(metadata={"tag": tag}) == []
    assert await other.threads.count(metadata={"tag": tag}) == 0
    assert await other.assistants.search(metadata={"tag": tag}) == []
    # Creating a thread with a taken id must not reveal it (and must not take it over).
    with pytest.raises((NotFoundError, httpx.HTTPStatusError)):
        await other.runs.wait(tid, "simple", input={"steps": []}, if_not_exists="create")
    assert (await owner.threads.get(tid))["thread_id"] == tid


async def test_other_org_store_is_separate(stack: LiveStack) -> None:
    """Row 35 (store): the same namespace and key in another org is another item."""
    owner = stack.client("editor")
    other = stack.client("other")
    ns = ["conf", uuid.uuid4().hex]
    await owner.store.put_item(ns, "secret", {"v": 1})
    assert await other.store.get_item(ns, "secret") is None
    assert (await other.store.search_items(ns))["items"] == []
    assert ns not in (await other.store.list_namespaces(prefix=ns[:1]))["namespaces"]


async def test_viewer_reads_but_cannot_write(stack: LiveStack) -> None:
    """A viewer may read (assistants; searches and counts answer) but every write is 403, checked
    before anything is looked up; the thread is untouched."""
    editor = stack.client("editor")
    viewer = stack.client("viewer")
    tid = await new_thread(editor)
    await editor.runs.wait(tid, "simple", input={"steps": []})
    assert (await viewer.assistants.get("simple"))["graph_id"] == "simple"
    assert isinstance(await viewer.assistants.search(graph_id="simple"), list)
    assert isinstance(await viewer.threads.search(), list)
    assert isinstance(await viewer.threads.count(), int)
    with pytest.raises(PermissionDeniedError):
        await viewer.threads.create()
    with pytest.raises(PermissionDeniedError):
        await viewer.threads.update(tid, metadata={"x": 1})
    with pytest.raises(PermissionDeniedError):
        await viewer.threads.delete(tid)
    with pytest.raises(PermissionDeniedError):
        await viewer.threads.update_state(tid, {"steps": ["x"]})
    with pytest.raises(PermissionDeniedError):
        await viewer.runs.create(tid, "simple", input={"steps": []})
    with pytest.raises(PermissionDeniedError):
        await viewer.assistants.create(graph_id="simple")
    with pytest.raises(PermissionDeniedError):
        await viewer.store.put_item(["conf", "viewer"], "k", {"v": 1})
    thread = await editor.threads.get(tid)
    assert thread["metadata"].get("x") is None
    assert thread["values"]["steps"] == ["first", "second", "third"]


async def test_threads_belong_to_their_creator(stack: LiveStack) -> None:
    """Threads belong to their creator; another editor of the same org does not see them (404), an
    admin does."""
    editor = stack.client("editor")
    tid = await new_thread(editor)
    with pytest.raises(NotFoundError):
        await stack.client("editor2").threads.get(tid)
    assert (await stack.client("admin").threads.get(tid))["thread_id"] == tid
