"""Adapter `celery_message` (atrium/runtime/adapters/celery_message.py): a run's broker message is built
by hand (Celery's publish cost five times its `LPUSH`). Its contract: it is exactly what `apply_async`
would have sent, and lands on the queue the workers consume; on the stock path Celery publishes it."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from typing import Any

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.test import override_settings
from kombu.transport import redis as kombu_redis

from atrium.runtime import dispatch
from atrium.runtime.adapters import celery_message
from atrium.runtime.tasks import execute_run
from atrium.runtime.tests.adapters.contract import broken


def _normalised(message: dict[str, Any]) -> dict[str, Any]:
    """The message with its per-message (and per-sender) ids replaced and its body decoded."""
    message = json.loads(json.dumps(message))
    message["body"] = json.loads(base64.b64decode(message["body"]))
    for key in ("id", "root_id"):
        message["headers"][key] = "<task id>"
    message["properties"]["correlation_id"] = "<task id>"
    message["properties"]["delivery_tag"] = "<tag>"
    # Celery's per-thread oid, for replies (none with ignore_result): any thread's will do.
    uuid.UUID(message["properties"]["reply_to"])
    message["properties"]["reply_to"] = "<sender oid>"
    return message


def test_contract_a_run_message_is_what_apply_async_sends(monkeypatch):
    run_id = str(uuid.uuid4())
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        kombu_redis.Channel, "_put", lambda self, queue, message, **kw: sent.append((queue, message))
    )
    # the sender's details cached by another thread, as in a web process's executor threads
    celery_message._sender.cache_clear()
    elsewhere = threading.Thread(target=dispatch.run_message, args=(run_id,))
    elsewhere.start()
    elsewhere.join()
    execute_run.apply_async(args=(run_id,), **dispatch._STRAIGHT_TO_RUNS_QUEUE)
    [(queue, theirs)] = sent

    ours = json.loads(dispatch.run_message(run_id))

    assert queue == dispatch.RUNS_QUEUE, broken("celery_message", "routing of apply_async", f"queue {queue}")
    assert _normalised(ours) == _normalised(theirs), broken(
        "celery_message", "task message (protocol 2) in kombu's Redis envelope", "apply_async sends another"
    )
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
    assert dispatch.run_message(run_id) != dispatch.run_message(run_id)  # a fresh task id each time


def test_enqueue_run_pushes_onto_the_runs_queue_and_delays_and_traces_go_through_celery(monkeypatch):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    before = client.llen(dispatch.RUNS_QUEUE)
    run_id = str(uuid.uuid4())
    try:
        dispatch.enqueue_run(run_id)
        pushed = json.loads(client.lindex(dispatch.RUNS_QUEUE, 0))
        assert client.llen(dispatch.RUNS_QUEUE) == before + 1
        assert json.loads(base64.b64decode(pushed["body"]))[0] == [run_id]
    finally:
        client.lrem(dispatch.RUNS_QUEUE, 1, client.lindex(dispatch.RUNS_QUEUE, 0))

    through_celery: list[dict[str, Any]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, **kwargs: through_celery.append({"name": name, **kwargs})
    )
    dispatch.enqueue_run(run_id, delay=2.5)
    assert through_celery[0]["name"] == execute_run.name
    assert through_celery[0]["args"] == (run_id,)
    assert through_celery[0]["queue"] == execute_run.queue
    assert through_celery[0]["countdown"] == 2.5
    # with tracing on, Celery publishes (its instrumentation carries the trace to the worker)
    monkeypatch.setattr(dispatch, "tracing_active", lambda: True)
    dispatch.enqueue_run(run_id)
    assert len(through_celery) == 2


def test_on_the_stock_path_celery_publishes_every_run_onto_the_runs_queue(monkeypatch):
    # given the adapter switched off
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    run_id = str(uuid.uuid4())
    monkeypatch.setattr(
        celery_message, "run_message", lambda *a, **k: pytest.fail("a hand-built message on the stock path")
    )
    before = client.llen(dispatch.RUNS_QUEUE)
    with override_settings(ATRIUM_STOCK_LIBRARY_PATHS=frozenset({"celery_message"})):
        dispatch._broker.cache_clear()
        try:
            # when a run is enqueued
            dispatch.enqueue_run(run_id)
        finally:
            dispatch._broker.cache_clear()
    # then Celery put it on the runs queue, with the run's id as its argument
    try:
        assert client.llen(dispatch.RUNS_QUEUE) == before + 1
        pushed = json.loads(client.lindex(dispatch.RUNS_QUEUE, 0))
        assert json.loads(base64.b64decode(pushed["body"]))[0] == [run_id]
        assert pushed["headers"]["task"] == execute_run.name
    finally:
        client.lrem(dispatch.RUNS_QUEUE, 1, client.lindex(dispatch.RUNS_QUEUE, 0))
