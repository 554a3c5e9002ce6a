"""Sync-side messages to workers and stream readers: enqueue a run, tell a worker to stop one, mark a
run that never started as done. Called after commit only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import redis
from celery import current_app
from django.conf import settings

from atrium.runtime.adapters import celery_message
from atrium.runtime.engine import ProtocolEvent, dumps
from atrium.runtime.engine.tracing import tracing_active
from atrium.runtime.streams import (
    CONTROL_CHANNEL,
    END_EVENT,
    RUN_STREAM_TTL_SECONDS,
    append_v2_args,
    run_done_key,
    run_events_key,
    v2_envelope,
)

RUNS_QUEUE = "runs"
# Webhook deliveries wait on outside receivers: their own queue, so they never hold up crons.
WEBHOOKS_QUEUE = "webhooks"
EXECUTE_RUN = "atrium.runtime.execute_run"
DELIVER_WEBHOOK = "atrium.runtime.deliver_webhook"
# Run messages go straight onto the queue (the default exchange routes by queue name). By default every
# publish re-declares the queue and its binding first: a broker round trip and most of the publish's
# CPU on the API's hot path. The workers consuming the queue declare it.
_STRAIGHT_TO_RUNS_QUEUE: dict[str, Any] = {
    "queue": RUNS_QUEUE,
    "exchange": "",
    "routing_key": RUNS_QUEUE,
    "declare": [],
}


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@lru_cache(maxsize=1)
def _broker() -> redis.Redis | None:
    """The broker's Redis, when runs can be enqueued with a plain `LPUSH` of a hand-built message
    (adapters/celery_message.py). Otherwise None, and Celery publishes them."""
    if not celery_message.direct_push_possible():
        return None
    url = settings.CELERY_BROKER_URL
    return _redis() if url == settings.REDIS_URL else redis.Redis.from_url(url)


def run_message(run_id: str) -> bytes:
    """The broker message of `execute_run(run_id)` on the runs queue, as `apply_async` sends it."""
    return celery_message.run_message(run_id, task=EXECUTE_RUN, queue=RUNS_QUEUE)


def enqueue_run(run_id: str, *, delay: float = 0) -> None:
    """Send a run's message to the workers (after `delay` seconds). With tracing on, Celery sends it:
    its instrumentation records the publish and carries the trace to the worker in the headers."""
    broker = _broker()
    if broker is not None and not delay and not tracing_active():
        broker.lpush(RUNS_QUEUE, run_message(run_id))
        return
    # Given, not computed: Celery's safe repr of the arguments was a sixth of its publish.
    options: dict[str, Any] = {**_STRAIGHT_TO_RUNS_QUEUE, "argsrepr": repr((run_id,)), "kwargsrepr": "{}"}
    send_task(EXECUTE_RUN, (run_id,), countdown=delay or 0, **options)


def send_task(name: str, args: tuple[Any, ...], *, countdown: float = 0, **options: Any) -> None:
    """Send a runtime task by its name, as its `apply_async` would with the options its decorator
    gives (`queue`, `ignore_result=True`): this layer sits below the tasks and does not import them."""
    current_app.send_task(name, args=args, countdown=countdown, ignore_result=True, **options)


def announce_run(run_id: str, thread_id: str) -> None:
    """Publish a new run's `metadata` event at once, so a streaming client's first event does not wait
    for a worker to pick the run up. The worker emits it itself only on retried attempts."""
    _redis().xadd(
        run_events_key(run_id),
        {"e": "metadata", "d": dumps({"run_id": run_id, "thread_id": thread_id, "attempt": 1})},
    )


def send_control(run_id: str, action: str) -> None:
    _redis().publish(CONTROL_CHANNEL, dumps({"run_id": run_id, "action": action}))


def mark_done(thread_id: str, run_id: str, status: str, *, error: dict[str, Any] | None = None) -> None:
    """A run that ended without its worker (cancelled while pending, or given up by the lease sweeper):
    wake its waiters and streams as a normal finish would (v1 `error` event, end marker, done stream,
    and the thread's v2 terminal lifecycle event)."""
    pipe = _redis().pipeline(transaction=False)
    if error is not None:
        pipe.xadd(run_events_key(run_id), {"e": "error", "d": dumps(error)})
    pipe.xadd(run_events_key(run_id), {"e": END_EVENT, "d": dumps(status)})
    done: dict[str | bytes, str | bytes] = {"s": status}
    if error is not None:
        done["r"] = dumps({"__error__": error})
    pipe.xadd(run_done_key(run_id), done)  # type: ignore[arg-type]
    pipe.expire(run_events_key(run_id), RUN_STREAM_TTL_SECONDS)
    pipe.expire(run_done_key(run_id), RUN_STREAM_TTL_SECONDS)
    if error is not None:
        terminal = ProtocolEvent("lifecycle", (), {"event": "failed", "error": str(error.get("message", ""))})
    else:
        terminal = ProtocolEvent("lifecycle", (), {"event": "interrupted"})
    pipe.eval(*append_v2_args(thread_id, [dumps(v2_envelope(terminal))], run_start=False))
    pipe.execute()
