"""Sync-side messages to workers and stream readers: enqueue a run, tell a worker to stop one, mark a
run that never started as done. Called after commit only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

from atrium.runtime.engine import ProtocolEvent, dumps
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


def enqueue_run(run_id: str, *, delay: float = 0) -> None:
    from atrium.runtime.tasks import execute_run

    execute_run.apply_async(args=(run_id,), countdown=delay or 0, **_STRAIGHT_TO_RUNS_QUEUE)


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
