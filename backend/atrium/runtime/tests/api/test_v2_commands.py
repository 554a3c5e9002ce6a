"""`input.respond` on the v2 commands endpoint: an answer that arrives after the client saw the
interrupt on the stream but before the interrupted run has ended (and recorded the interrupt on the
thread) waits for that run instead of being refused."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client

from atrium.runtime.models import Run, RunStatus, Thread, ThreadStatus
from atrium.runtime.streams import run_done_key
from atrium.runtime.tests.agent_api import agent_loop, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

INTERRUPTS = {"ask": [{"id": "interrupt-1", "value": "Go ahead?"}]}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)


def start_run(client: Client) -> tuple[str, str]:
    thread = send(client, "POST", "/threads", {}).json()["thread_id"]
    response = send(client, "POST", f"/threads/{thread}/runs", {"assistant_id": "echo", "input": {}})
    assert response.status_code == 200, response.content
    return str(thread), str(response.json()["run_id"])


def end_interrupted(thread_id: str, run_id: str) -> None:
    """What the worker does when the run ends at an interrupt: record it, then mark the run done."""
    Thread.unscoped.filter(id=thread_id).update(status=ThreadStatus.INTERRUPTED, interrupts=INTERRUPTS)
    Run.unscoped.filter(id=run_id).update(status=RunStatus.INTERRUPTED)
    connection.close()
    redis.Redis.from_url(settings.REDIS_URL).xadd(run_done_key(run_id), {"s": "interrupted"})


def respond(client: Client, thread_id: str, interrupt_id: str) -> Any:
    body = {"id": 1, "method": "input.respond", "params": {"interrupt_id": interrupt_id, "response": "yes"}}
    return send(client, "POST", f"/threads/{thread_id}/commands", body).json()


def test_an_answer_sent_before_the_run_ended_waits_for_it(client_for):
    client = client_for("editor")
    thread_id, run_id = start_run(client)
    later = threading.Timer(0.3, end_interrupted, args=(thread_id, run_id))
    later.start()
    try:
        answer = respond(client, thread_id, "interrupt-1")
    finally:
        later.join()
    assert answer["type"] == "success", answer
    resumed = Run.unscoped.filter(thread_id=thread_id).exclude(id=run_id).get()
    assert resumed.kwargs["command"]["resume"] == {"interrupt-1": "yes"}


def test_an_unknown_interrupt_is_refused_once_the_run_has_ended(client_for):
    client = client_for("editor")
    thread_id, run_id = start_run(client)
    end_interrupted(thread_id, run_id)
    answer = respond(client, thread_id, "interrupt-2")
    assert answer["type"] == "error", answer
    assert answer["error"] == "no_such_interrupt"
    assert Run.unscoped.filter(thread_id=thread_id).count() == 1
