"""§1.4 and §3 runs on a thread: create, wait, join, join_stream with Last-Event-ID, list, get, delete,
cancel, cancel_many, multitask strategies, on_disconnect, if_not_exists, validation (rows 17-23, 25,
26)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
)

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import (
    CHAT_INPUT,
    REPLY,
    collect,
    is_uuid,
    names,
    new_thread,
    slow_input,
    wait_for_status,
    wait_for_thread,
    wait_until_running,
)

RUN_FIELDS = {
    "run_id",
    "thread_id",
    "assistant_id",
    "created_at",
    "updated_at",
    "status",
    "metadata",
    "kwargs",
    "multitask_strategy",
}


async def test_create_join_and_replay_with_last_event_id(stack: LiveStack) -> None:
    """Row 17."""
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(
        tid, "chat", input=CHAT_INPUT, stream_resumable=True, stream_mode=["values", "messages-tuple"]
    )
    assert set(run) >= RUN_FIELDS
    assert run["status"] in ("pending", "running")
    assert run["thread_id"] == tid
    assert is_uuid(run["run_id"])
    result = await client.runs.join(tid, run["run_id"])
    assert [m["content"] for m in result["messages"]] == ["hi", REPLY]
    parts = await collect(client.runs.join_stream(tid, run["run_id"], last_event_id="-1"))
    assert parts[0].event == "metadata"
    assert parts[0].data["run_id"] == run["run_id"]
    assert {"values", "messages"} <= set(names(parts))
    ids = [p.id for p in parts]
    assert all(ids)
    assert len(set(ids)) == len(ids)

    only_values = await collect(
        client.runs.join_stream(tid, run["run_id"], last_event_id="-1", stream_mode="values")
    )
    assert set(names(only_values)) == {"metadata", "values"}
    tail = await collect(client.runs.join_stream(tid, run["run_id"], last_event_id=ids[2]))
    assert [p.id for p in tail] == ids[3:]
    assert await collect(client.runs.join_stream(tid, run["run_id"])) == []  # finished, no replay asked


async def test_join_finished_run_returns_at_once(stack: LiveStack, http: httpx.AsyncClient) -> None:
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "simple", input={"steps": []})
    await wait_for_status(client, tid, run["run_id"])
    started = time.monotonic()
    assert (await client.runs.join(tid, run["run_id"]))["steps"] == ["first", "second", "third"]
    assert time.monotonic() - started < 1
    missing = await http.get(f"/threads/{tid}/runs/{uuid.uuid4()}/join")
    assert missing.status_code == 404
    missing_stream = await http.get(f"/threads/{tid}/runs/{uuid.uuid4()}/stream")
    assert missing_stream.status_code == 404


async def test_reconnect_with_last_event_id_loses_nothing(stack: LiveStack) -> None:
    """Row 18: break off a resumable stream, rejoin from the last id; the ticks are 0..n-1, once each."""
    client = stack.client()
    tid = await new_thread(client)
    created: list[dict[str, Any]] = []
    first: list[Any] = []
    stream = client.runs.stream(
        tid,
        "slow",
        input=slow_input(n=15, delay=0.1),
        stream_mode="custom",
        stream_resumable=True,
        on_disconnect="continue",
        on_run_created=created.append,
    )
    async with contextlib.aclosing(stream):
        async for part in stream:
            first.append(part)
            if len(first) == 4:
                break
    assert first[0].event == "metadata"
    rest = await collect(client.runs.join_stream(tid, created[0]["run_id"], last_event_id=first[-1].id))
    ticks = [p.data["tick"] for p in [*first, *rest] if p.event == "custom"]
    assert ticks == list(range(15))
    assert (await client.runs.get(tid, created[0]["run_id"]))["status"] == "success"


async def test_multitask_reject(stack: LiveStack) -> None:
    """Row 19."""
    client = stack.client()
    tid = await new_thread(client)
    slow = await client.runs.create(tid, "slow", input=slow_input(n=20, delay=0.1))
    await wait_until_running(client, tid, slow["run_id"])
    with pytest.raises(ConflictError):
        await client.runs.create(tid, "slow", input=slow_input(n=1), multitask_strategy="reject")
    await client.runs.cancel(tid, slow["run_id"])


async def test_multitask_enqueue_then_interrupt(stack: LiveStack) -> None:
    """Row 20."""
    client = stack.client()
    tid = await new_thread(client)
    first = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    await wait_until_running(client, tid, first["run_id"])
    queued = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    assert queued["multitask_strategy"] == "enqueue"
    await asyncio.sleep(0.3)
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "pending"
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "running"
    assert (await client.threads.get(tid))["status"] == "busy"
    interrupting = await client.runs.create(
        tid, "slow", input=slow_input(n=1, delay=0.01), multitask_strategy="interrupt"
    )
    assert (await wait_for_status(client, tid, first["run_id"]))["status"] == "interrupted"
    assert (await wait_for_status(client, tid, queued["run_id"]))["status"] == "interrupted"
    assert (await wait_for_status(client, tid, interrupting["run_id"]))["status"] == "success"
    await wait_for_thread(client, tid, ["idle"])


async def test_multitask_enqueue_runs_in_order(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    first = await client.runs.create(tid, "slow", input=slow_input(n=3, delay=0.1))
    second = await client.runs.create(tid, "slow", input=slow_input(n=5, delay=0.05))
    assert (await client.runs.join(tid, second["run_id"]))["ticks"] == [0, 1, 2, 3, 4]
    done = [await client.runs.get(tid, r["run_id"]) for r in (first, second)]
    assert [r["status"] for r in done] == ["success", "success"]
    assert done[0]["updated_at"] <= done[1]["updated_at"]


async def test_multitask_rollback(stack: LiveStack) -> None:
    """Row 21: the superseded run and its checkpoints are gone."""
    client = stack.client()
    tid = await new_thread(client)
    await client.runs.wait(tid, "slow", input=slow_input(n=1, delay=0.01))
    before = await client.threads.get_history(tid, limit=100)
    slow = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    await wait_until_running(client, tid, slow["run_id"])
    await asyncio.sleep(0.35)
    rollback = await client.runs.create(
        tid, "slow", input=slow_input(n=2, delay=0.01), multitask_strategy="rollback"
    )
    assert (await wait_for_status(client, tid, rollback["run_id"]))["status"] == "success"
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, slow["run_id"])
    history = await client.threads.get_history(tid, limit=100)
    assert all(s["metadata"].get("run_id") != slow["run_id"] for s in history)
    assert {s["checkpoint"]["checkpoint_id"] for s in before} <= {
        s["checkpoint"]["checkpoint_id"] for s in history
    }


async def test_cancel_interrupt_and_wait(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 22: 202 with an empty body, or 200 JSON with `wait=1`."""
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    await wait_until_running(client, tid, run["run_id"])
    response = await http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel?wait=0&action=interrupt")
    assert response.status_code == 202
    assert response.content == b""
    assert (await wait_for_status(client, tid, run["run_id"]))["status"] == "interrupted"

    run2 = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    await wait_until_running(client, tid, run2["run_id"])
    values = await client.runs.cancel(tid, run2["run_id"], wait=True)
    assert isinstance(values, dict)
    assert "ticks" in values
    assert (await client.runs.get(tid, run2["run_id"]))["status"] == "interrupted"
    await wait_for_thread(client, tid, ["idle", "interrupted"])


async def test_cancel_rollback_deletes_the_run(stack: LiveStack) -> None:
    """Row 22 (`action=rollback`)."""
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    await wait_until_running(client, tid, run["run_id"])
    await client.runs.cancel(tid, run["run_id"], action="rollback")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            await client.runs.get(tid, run["run_id"])
        except NotFoundError:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the rolled-back run still exists")
    state = await client.threads.get_state(tid)
    assert state["checkpoint"] is None
    await wait_for_thread(client, tid, ["idle"])


async def test_cancel_pending_and_unknown(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    blocker = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    queued = await client.runs.create(tid, "slow", input=slow_input(n=1))
    await client.runs.cancel(tid, queued["run_id"])
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "interrupted"
    await client.runs.cancel(tid, blocker["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.cancel(tid, str(uuid.uuid4()))


async def test_on_disconnect_cancel(stack: LiveStack) -> None:
    """Row 23."""
    client = stack.client()
    tid = await new_thread(client)
    created: list[dict[str, Any]] = []
    stream = client.runs.stream(
        tid,
        "slow",
        input=slow_input(n=30, delay=0.1),
        stream_mode="custom",
        on_disconnect="cancel",
        on_run_created=created.append,
    )
    async with contextlib.aclosing(stream):
        async for part in stream:
            if part.event == "custom":
                break
    run = await wait_for_status(client, tid, created[0]["run_id"], within=5)
    assert run["status"] == "interrupted"


async def test_on_disconnect_continue_is_the_default(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    created: list[dict[str, Any]] = []
    stream = client.runs.stream(
        tid, "slow", input=slow_input(n=5, delay=0.1), stream_mode="custom", on_run_created=created.append
    )
    async with contextlib.aclosing(stream):
        async for part in stream:
            if part.event == "custom":
                break
    assert (await wait_for_status(client, tid, created[0]["run_id"]))["status"] == "success"


async def test_join_stream_cancel_on_disconnect(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1), stream_mode="custom")
    await wait_until_running(client, tid, run["run_id"])
    stream = client.runs.join_stream(tid, run["run_id"], cancel_on_disconnect=True)
    async with contextlib.aclosing(stream):
        async for part in stream:
            if part.event == "custom":
                break
    assert (await wait_for_status(client, tid, run["run_id"], within=5))["status"] == "interrupted"


async def test_if_not_exists(stack: LiveStack) -> None:
    """Row 25."""
    client = stack.client()
    tid = str(uuid.uuid4())
    with pytest.raises(httpx.HTTPStatusError) as missing:  # the SDK's wait raises httpx's error here
        await client.runs.wait(tid, "simple", input={"steps": []})
    assert missing.value.response.status_code == 404
    result = await client.runs.wait(
        tid, "simple", input={"steps": []}, if_not_exists="create", metadata={"origin": "conf"}
    )
    assert result["steps"] == ["first", "second", "third"]
    thread = await client.threads.get(tid)
    assert thread["metadata"]["graph_id"] == "simple"
    assert is_uuid(thread["metadata"]["assistant_id"])
    assert thread["metadata"]["origin"] == "conf"


async def test_validation_errors(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 26 and §0/§3 validation."""
    client = stack.client()
    tid = await new_thread(client)
    with pytest.raises(BadRequestError):
        await client.runs.create(tid, "simple", config={"configurable": {"x": 1}}, context={"y": 2})
    with pytest.raises(BadRequestError):
        await client.runs.create(None, "simple", command={"resume": 1})
    with pytest.raises(UnprocessableEntityError):
        await client.runs.create(tid, "no-such-graph", input={})
    with pytest.raises(NotFoundError):
        await client.runs.create(tid, str(uuid.uuid4()), input={})
    bad_id = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "simple", "checkpoint_id": "nope"})
    assert bad_id.status_code == 422
    extra = await http.post(
        f"/threads/{tid}/runs/wait",
        json={
            "assistant_id": "simple",
            "input": {"steps": []},
            "strict_resume": None,
            "feedback_keys": None,
            "langsmith_tracer": None,
            "something_new": {"x": 1},
        },
    )
    assert extra.status_code == 200
    assert extra.json()["steps"] == ["first", "second", "third"]
    detail = await http.post(f"/threads/{uuid.uuid4()}/runs", json={"assistant_id": "simple"})
    assert detail.status_code == 404
    assert isinstance(detail.json()["detail"], str)


async def test_list_get_and_select(stack: LiveStack, http: httpx.AsyncClient) -> None:
    client = stack.client()
    tid = await new_thread(client)
    runs = [await client.runs.create(tid, "simple", input={"steps": []}, metadata={"i": i}) for i in range(3)]
    for run in runs:
        await wait_for_status(client, tid, run["run_id"])
    listed = await client.runs.list(tid)
    assert [r["run_id"] for r in listed] == [r["run_id"] for r in reversed(runs)]
    assert [r["run_id"] for r in await client.runs.list(tid, limit=1, offset=1)] == [runs[1]["run_id"]]
    assert await client.runs.list(tid, status="error") == []
    got = await client.runs.get(tid, runs[0]["run_id"])
    assert got["status"] == "success"
    assert got["metadata"]["i"] == 0
    assert got["metadata"]["graph_id"] == "simple"
    assert got["metadata"]["assistant_id"] == got["assistant_id"]
    selected = await client.runs.list(tid, select=["run_id", "status"])
    assert all(set(r) == {"run_id", "status"} for r in selected)
    js_select = await http.get(f"/threads/{tid}/runs", params={"select": '["run_id","status"]'})
    assert js_select.status_code == 200
    assert all(set(r) == {"run_id", "status"} for r in js_select.json())
    with pytest.raises(NotFoundError):
        await client.runs.list(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, str(uuid.uuid4()))


async def test_reserved_metadata_is_stripped(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(
        tid, "simple", input={"steps": []}, metadata={"thread_id": "x", "run_id": "y", "keep": 1}
    )
    assert run["metadata"]["keep"] == 1
    assert run["metadata"].get("thread_id") != "x"
    assert run["metadata"].get("run_id") != "y"


async def test_delete_run(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """DELETE is 204 (admins; an editor may cancel but not delete)."""
    client = stack.client()
    admin = stack.client("admin")
    tid = await new_thread(client)
    run = await client.runs.create(tid, "simple", input={"steps": []})
    await wait_for_status(client, tid, run["run_id"])
    with pytest.raises(PermissionDeniedError):
        await client.runs.delete(tid, run["run_id"])
    response = await http.delete(f"/threads/{tid}/runs/{run['run_id']}", headers=stack.headers("admin"))
    assert response.status_code == 204
    with pytest.raises(NotFoundError):
        await admin.runs.get(tid, run["run_id"])
    with pytest.raises(NotFoundError):
        await admin.runs.delete(tid, run["run_id"])


async def test_cancel_many(stack: LiveStack, http: httpx.AsyncClient) -> None:
    client = stack.client()
    tid = await new_thread(client)
    blocker = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    queued = await client.runs.create(tid, "slow", input=slow_input(n=1))
    await wait_until_running(client, tid, blocker["run_id"])
    response = await http.post(
        "/runs/cancel", json={"thread_id": tid, "run_ids": [blocker["run_id"], queued["run_id"]]}
    )
    assert response.status_code == 204
    for run in (blocker, queued):
        assert (await wait_for_status(client, tid, run["run_id"]))["status"] == "interrupted"

    tid2 = await new_thread(client)
    pending = await client.runs.create(tid2, "simple", input={"steps": []}, after_seconds=30)
    await client.runs.cancel_many(status="pending")
    assert (await wait_for_status(client, tid2, pending["run_id"]))["status"] == "interrupted"
    both = await http.post(
        "/runs/cancel", json={"thread_id": tid, "run_ids": [queued["run_id"]], "status": "all"}
    )
    assert both.status_code == 422


async def test_after_seconds_delays_the_start(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "simple", input={"steps": []}, after_seconds=1)
    await asyncio.sleep(0.3)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "pending"
    assert (await wait_for_status(client, tid, run["run_id"], within=10))["status"] == "success"


async def test_wait_follows_an_enqueued_run(stack: LiveStack) -> None:
    client = stack.client()
    tid = await new_thread(client)
    await client.runs.create(tid, "slow", input=slow_input(n=3, delay=0.1))
    result = await client.runs.wait(tid, "slow", input=slow_input(n=5, delay=0.01))
    assert result["ticks"] == [0, 1, 2, 3, 4]


async def test_server_added_run_config(stack: LiveStack) -> None:
    """§3: ids, the user and `x-` headers reach the graph's config; reserved keys cannot be spoofed;
    the API key is never forwarded."""
    client = stack.client()
    tid = await new_thread(client)
    created: list[dict[str, Any]] = []
    parts = [
        part
        async for part in client.runs.stream(
            tid,
            "inspect",
            input={},
            config={
                "configurable": {"custom": "kept", "thread_id": "spoofed", "run_id": "spoofed"},
                "tags": ["t1"],
            },
            headers={"x-conformance": "yes"},
            on_run_created=created.append,
        )
    ]
    seen = [p.data for p in parts if p.event == "values"][-1]["seen"]
    assert seen["thread_id"] == tid
    assert seen["run_id"] == created[0]["run_id"]
    assert seen["graph_id"] == "inspect"
    assert is_uuid(seen["assistant_id"])
    assert seen["user_id"]
    assert seen["langgraph_auth_user_id"] == seen["user_id"]
    assert seen["auth_identity"] == seen["user_id"]
    assert seen["permissions"]
    assert seen["custom"] == "kept"
    assert seen["x_conformance"] == "yes"
    assert seen["forwarded_secret_headers"] == []
    assert seen["has_user_agent"] is True
    assert "t1" in seen["tags"]


@pytest.mark.parametrize("start", ["-1", "0", "-"])
async def test_last_event_id_start_forms(stack: LiveStack, start: str) -> None:
    """§2.5: `-1`, `0` and `-` all mean "from the beginning"."""
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "simple", input={"steps": []}, stream_resumable=True)
    await client.runs.join(tid, run["run_id"])
    parts = await collect(client.runs.join_stream(tid, run["run_id"], last_event_id=start))
    assert names(parts) == ["metadata", "values", "values", "values", "values"]


async def test_error_event_is_kept_for_replay(stack: LiveStack) -> None:
    """§2.5/§6: a rejoin to a failed resumable run replays its `error` event."""
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "failing", input={}, stream_resumable=True)
    await wait_for_status(client, tid, run["run_id"])
    parts = await collect(client.runs.join_stream(tid, run["run_id"], last_event_id="-1"))
    assert parts[0].event == "metadata"
    assert [p.data for p in parts if p.event == "error"] == [{"error": "ValueError", "message": "kaboom"}]


async def test_wait_headers(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§1.4 /wait: `Content-Location` and `Location: …/join`; a finished run's join is its result."""
    tid = await new_thread(stack.client())
    response = await http.post(
        f"/threads/{tid}/runs/wait", json={"assistant_id": "simple", "input": {"steps": []}}
    )
    assert response.status_code == 200
    content_location = response.headers["content-location"]
    assert content_location.startswith(f"/threads/{tid}/runs/")
    assert response.headers["location"] == f"{content_location}/join"
    joined = await http.get(response.headers["location"].removeprefix("/"))
    assert joined.json() == response.json()


async def test_error_bodies_are_detail_strings(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§0: every error is `{"detail": "<string>"}` with the protocol's status."""
    tid = await new_thread(stack.client())
    cases = [
        (await http.post(f"/threads/{tid}/runs", json={"input": {}}), 422),  # no assistant_id
        (await http.post(f"/threads/{tid}/runs", json={"assistant_id": "nope-graph"}), 422),
        (
            await http.post(
                f"/threads/{tid}/runs", json={"assistant_id": "simple", "stream_mode": "lifecycle"}
            ),
            422,
        ),
        (await http.post("/threads", json={"thread_id": tid}), 409),
        (await http.get(f"/threads/{uuid.uuid4()}"), 404),
        (
            await http.post(
                f"/threads/{tid}/runs", json={"assistant_id": "simple", "multitask_strategy": "x"}
            ),
            422,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert isinstance(body["detail"], str), body
        assert body["detail"]


async def test_durability_modes(stack: LiveStack) -> None:
    """§3 `durability`: `exit` keeps only what the run ends with; `sync`/`async` every step."""
    client = stack.client()
    lengths = {}
    for durability in ("sync", "async", "exit"):
        tid = await new_thread(client)
        result = await client.runs.wait(tid, "simple", input={"steps": []}, durability=durability)
        assert result["steps"] == ["first", "second", "third"]
        lengths[durability] = len(await client.threads.get_history(tid, limit=100))
    assert lengths["sync"] == lengths["async"] == 5
    assert lengths["exit"] < lengths["sync"]
    tid = await new_thread(client)
    with pytest.warns(DeprecationWarning, match="checkpoint_during"):
        deprecated = await client.runs.wait(tid, "simple", input={"steps": []}, checkpoint_during=False)
    assert deprecated["steps"] == ["first", "second", "third"]
