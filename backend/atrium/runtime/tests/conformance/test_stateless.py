"""§1.5 stateless runs: wait, stream, create, batch, on_completion, join by run id (row 27)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import NotFoundError

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import collect, is_uuid, names, slow_input


async def test_stateless_wait_deletes_its_thread(stack: LiveStack) -> None:
    """Row 27: the values come back although the temporary thread is deleted right after the run."""
    client = stack.client()
    for _ in range(5):  # the result must never race the deletion of the temporary thread
        assert (await client.runs.wait(None, "simple", input={"steps": []}))["steps"] == [
            "first",
            "second",
            "third",
        ]


async def test_stateless_stream(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 27: `metadata` then `updates`; `Content-Location: /runs/{rid}`."""
    client = stack.client()
    created: list[dict[str, Any]] = []
    parts = await collect(
        client.runs.stream(
            None, "simple", input={"steps": []}, stream_mode="updates", on_run_created=created.append
        )
    )
    assert names(parts) == ["metadata", "updates", "updates", "updates"]
    assert created[0]["run_id"] == parts[0].data["run_id"]
    async with http.stream(
        "POST", "/runs/stream", json={"assistant_id": "simple", "input": {"steps": []}}
    ) as response:
        assert response.status_code == 200
        run_id = response.headers["content-location"].removeprefix("/runs/")
        assert is_uuid(run_id)
        assert response.headers["location"] == f"/runs/{run_id}/stream"
        await response.aread()


async def test_stateless_create_keep_and_join_by_run_id(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§1.5: `on_completion=keep` keeps the thread; `GET /runs/{rid}/stream` is routed."""
    client = stack.client()
    run = await client.runs.create(
        None,
        "slow",
        input=slow_input(n=3, delay=0.1),
        on_completion="keep",
        stream_resumable=True,
        stream_mode="custom",
    )
    assert is_uuid(run["run_id"])
    response = await http.get(f"/runs/{run['run_id']}/stream", headers={"Last-Event-ID": "-1"})
    assert response.status_code == 200
    assert response.text.count("event: custom") == 3
    await asyncio.sleep(0.2)
    thread = await client.threads.get(run["thread_id"])
    assert thread["values"]["ticks"] == [0, 1, 2]


async def test_stateless_delete_removes_the_thread(stack: LiveStack) -> None:
    client = stack.client()
    run = await client.runs.create(None, "simple", input={"steps": []})
    for _ in range(100):
        try:
            await client.threads.get(run["thread_id"])
        except NotFoundError:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the temporary thread of a stateless run was not deleted")


async def test_batch(stack: LiveStack) -> None:
    """Row 27: `create_batch` returns one Run per payload."""
    client = stack.client()
    runs = await client.runs.create_batch(
        [
            {"assistant_id": "simple", "input": {"steps": []}},
            {"assistant_id": "chat", "input": {"messages": [{"type": "human", "content": "x"}]}},
        ]
    )
    assert len(runs) == 2
    assert all(is_uuid(r["run_id"]) for r in runs)
    assert len({r["thread_id"] for r in runs}) == 2


async def test_a_batch_with_one_refused_run_creates_none_of_them(stack: LiveStack) -> None:
    client = stack.client()
    marker = {"batch": str(uuid.uuid4())}
    good = {"assistant_id": "simple", "input": {"steps": []}, "metadata": marker, "on_completion": "keep"}

    # when: the last run of the batch names an assistant that is not there
    with pytest.raises(NotFoundError):
        await client.runs.create_batch([good, good, {**good, "assistant_id": str(uuid.uuid4())}])

    # then: none of the batch's runs (nor their threads) were created
    assert await client.threads.search(metadata=marker) == []
    # and the same batch without the refused run creates both
    assert len(await client.runs.create_batch([good, good])) == 2
    assert len(await client.threads.search(metadata=marker)) == 2


async def test_a_retried_batch_with_an_idempotency_key_finds_each_of_its_runs_again(
    http: httpx.AsyncClient,
) -> None:
    batch = [{"assistant_id": "simple", "input": {"steps": []}, "on_completion": "keep"}] * 3
    key = {"Idempotency-Key": f"batch-{uuid.uuid4()}"}

    # when: the same batch is sent twice with one key
    first = await http.post("/runs/batch", json=batch, headers=key)
    again = await http.post("/runs/batch", json=batch, headers=key)

    # then: three runs, one for each item, and the retry answers with the same three
    assert first.status_code == again.status_code == 200
    ids = [run["run_id"] for run in first.json()]
    assert len(set(ids)) == 3
    assert [run["run_id"] for run in again.json()] == ids
    # and a key too long to number each run is refused, with nothing created
    too_long = await http.post("/runs/batch", json=batch, headers={"Idempotency-Key": "k" * 199})
    assert too_long.status_code == 422
    assert "at most 198 characters" in too_long.json()["detail"]


async def test_stateless_resume_is_400(stack: LiveStack) -> None:
    from langgraph_sdk.errors import BadRequestError

    with pytest.raises(BadRequestError):
        await stack.client().runs.create(None, "approver", command={"resume": "x"})
