"""`/wait` and `/join`: a run that ends before the first heartbeat is answered with a plain JSON
response; a longer one with newlines every heartbeat, then the result; `on_disconnect=cancel` (and
join's `cancel_on_disconnect`) cancel the run when the client goes away while it waits."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
import redis
from django.conf import settings
from django.db import connection

from atrium.core.tenancy import scoped
from atrium.runtime.api import runs as runs_api
from atrium.runtime.models import Run, RunStatus
from atrium.runtime.streams import run_done_key
from atrium.runtime.tests.agent_api import agent_loop, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)


def new_thread(client) -> str:
    return str(send(client, "POST", "/threads", {}).json()["thread_id"])


def end_run(run_id: str, result: dict) -> None:
    """What the worker does last: mark the run done, with its /wait body."""
    redis.Redis.from_url(settings.REDIS_URL).xadd(
        run_done_key(run_id), {"s": "success", "r": json.dumps(result)}
    )


def ended_soon(thread_id: str, delay: float, result: dict) -> threading.Timer:
    """End the thread's (only) run `delay` seconds from now."""

    def end() -> None:
        deadline = time.monotonic() + 10
        while (run := Run.unscoped.filter(thread_id=thread_id).first()) is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        connection.close()
        end_run(str(run.id), result)

    timer = threading.Timer(delay, end)
    timer.start()
    return timer


def test_a_run_that_ends_before_the_first_heartbeat_gets_a_plain_json_response(client_for):
    client = client_for("editor")
    thread_id = new_thread(client)
    timer = ended_soon(thread_id, 0.2, {"messages": ["done"]})
    try:
        response = send(client, "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": "echo"})
    finally:
        timer.join()
    assert response.status_code == 200
    assert not response.streaming
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"messages": ["done"]}
    run = Run.unscoped.get(thread_id=thread_id)
    assert response["Location"] == f"/threads/{thread_id}/runs/{run.id}/join"


def test_a_longer_run_gets_newlines_every_heartbeat_then_its_result(client_for, monkeypatch, agent_loop):
    monkeypatch.setattr(runs_api, "HEARTBEAT_MS", 100)
    monkeypatch.setattr("atrium.runtime.api.streaming.HEARTBEAT_MS", 100)
    client = client_for("editor")
    thread_id = new_thread(client)
    timer = ended_soon(thread_id, 0.5, {"answer": 42})
    try:
        response = send(client, "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": "echo"})

        async def read() -> bytes:
            return b"".join([chunk async for chunk in response.streaming_content])

        body = asyncio.run_coroutine_threadsafe(read(), agent_loop).result(timeout=10)
    finally:
        timer.join()
    assert response.status_code == 200
    assert response.streaming
    assert body.startswith(b"\n\n")  # at least two heartbeats: the one waited for, then wait_body's
    assert json.loads(body) == {"answer": 42}


def test_join_of_a_running_run_waits_for_its_end(client_for):
    client = client_for("editor")
    thread_id = new_thread(client)
    run_id = send(client, "POST", f"/threads/{thread_id}/runs", {"assistant_id": "echo"}).json()["run_id"]
    timer = ended_soon(thread_id, 0.2, {"joined": True})
    try:
        response = send(client, "GET", f"/threads/{thread_id}/runs/{run_id}/join")
    finally:
        timer.join()
    assert response.status_code == 200
    assert response.json() == {"joined": True}


@pytest.mark.parametrize("cancel", [True, False])
def test_a_client_gone_while_waiting_cancels_the_run_only_when_asked(editor, agent_loop, cancel):
    from atrium.runtime.services.runs import RunCreate, run_create
    from atrium.runtime.services.threads import thread_create

    with scoped(editor.scope()):
        thread, _ = thread_create()
        run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    connection.close()

    async def client_goes_away() -> None:
        with scoped(editor.scope()):
            waiting = asyncio.ensure_future(runs_api._wait(run, stateless=False, cancel_on_disconnect=cancel))
        await asyncio.sleep(0.2)
        waiting.cancel()  # what Django does to the view when the client disconnects
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run_coroutine_threadsafe(client_goes_away(), agent_loop).result(timeout=10)
    expected = RunStatus.INTERRUPTED if cancel else RunStatus.PENDING
    deadline = time.monotonic() + 10
    while Run.unscoped.get(id=run.id).status != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # a cancel that should not happen has had its chance
    assert Run.unscoped.get(id=run.id).status == expected
