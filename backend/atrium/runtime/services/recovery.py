"""Putting runs back on their feet: the lease sweeper and the queue reconciler (beat tasks).

The run row in Postgres is the source of truth; the broker only carries wake-ups. So recovery is two
queries on the rows:

* the **sweeper** finds `running` runs whose lease lapsed (their worker died, or lost Postgres for
  longer than a lease) and hands them back to `pending` with a new fence, so the old worker's
  heartbeat and finish are refused, then re-enqueues them; past the attempt bound it ends them `error`
  and settles the thread instead. A run cancelled while its worker was dead is re-enqueued whatever
  its attempts: the worker that claims it ends it cancelled (`interrupted`, or erased for a rollback)
  without running a step, through the same code as a live cancel;
* the **reconciler** re-enqueues `pending` runs that could be claimed but have waited too long: their
  message may have been lost with Redis, or with the prefetch buffer of a killed worker.

Both are idempotent and safe to run from any number of beats at once: each change is a guarded UPDATE
under the thread's row lock (the lock order of the claim), and a duplicate message claims nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from psycopg.types.json import Jsonb

from atrium.runtime.models import RunStatus, ThreadStatus
from atrium.runtime.services.webhooks import webhook_enqueue

logger = logging.getLogger(__name__)
BATCH = 200

_EXPIRED = """
SELECT id, thread_id FROM runtime_run
WHERE status = 'running' AND lease_expires_at < now()
ORDER BY lease_expires_at LIMIT %(limit)s
"""
_LOCK_THREAD = "SELECT id FROM runtime_thread WHERE id = %(thread)s FOR UPDATE"
_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '2s'"
_REQUEUE = """
UPDATE runtime_run SET status = 'pending', fence = fence + 1, lease_owner = '', lease_expires_at = NULL,
    updated_at = now()
WHERE id = %(run)s AND status = 'running' AND lease_expires_at < now()
  AND (attempt < %(max_attempts)s OR cancel_action <> '')
RETURNING attempt
"""
_GIVE_UP = """
UPDATE runtime_run SET status = 'error', fence = fence + 1, error = %(error)s, result = %(result)s,
    ended_at = now(), lease_owner = '', lease_expires_at = NULL, updated_at = now(),
    checkpoint_end = (
        SELECT jsonb_build_object('thread_id', %(thread)s::text, 'checkpoint_ns', '',
                                  'checkpoint_id', max(c.checkpoint_id))
        FROM checkpoints c WHERE c.thread_id = %(thread)s::text AND c.checkpoint_ns = ''
        HAVING max(c.checkpoint_id) IS NOT NULL)
WHERE id = %(run)s AND status = 'running' AND lease_expires_at < now()
RETURNING attempt
"""
_NEXT_PENDING = """
SELECT id FROM runtime_run WHERE thread_id = %(thread)s AND status = 'pending' ORDER BY created_at LIMIT 1
"""
_SETTLE_THREAD = """
UPDATE runtime_thread SET status = %(status)s, error = %(error)s, updated_at = now() WHERE id = %(thread)s
"""
# Claimable (nothing running or queued ahead on its thread, due) and untouched for a while. Touching
# `updated_at` when re-enqueueing makes each run re-sent at most once per threshold, however long the
# queue is.
_STALE_PENDING = """
SELECT r.id FROM runtime_run r
WHERE r.status = 'pending'
  AND greatest(r.updated_at, coalesce(r.not_before, r.updated_at)) < now() - make_interval(secs => %(after)s)
  AND NOT EXISTS (SELECT 1 FROM runtime_run o WHERE o.thread_id = r.thread_id AND o.id <> r.id
                  AND (o.status = 'running' OR (o.status = 'pending' AND o.created_at < r.created_at)))
ORDER BY r.created_at LIMIT %(limit)s
FOR UPDATE OF r SKIP LOCKED
"""
_TOUCH = "UPDATE runtime_run SET updated_at = now() WHERE id = ANY(%(ids)s) AND status = 'pending'"


def runs_sweep(*, max_attempts: int | None = None) -> dict[str, int]:
    """Reclaim running runs whose lease lapsed. Returns how many were re-queued and given up."""
    max_attempts = max_attempts or settings.ATRIUM_RUN_MAX_ATTEMPTS
    counts = {"requeued": 0, "failed": 0, "": 0}  # "": renewed or finished meanwhile
    cursor: Any
    with connection.cursor() as cursor:
        cursor.execute(_EXPIRED, {"limit": BATCH})
        expired = [(str(run), str(thread)) for run, thread in cursor.fetchall()]
    for run_id, thread_id in expired:
        try:
            counts[_sweep_one(run_id=run_id, thread_id=thread_id, max_attempts=max_attempts)] += 1
        except OperationalError:  # a lock held past LOCK_TIMEOUT: the next sweep tries again
            logger.warning("run %s could not be swept now; retrying at the next sweep", run_id, exc_info=True)
    counts.pop("", None)
    return counts


def _sweep_one(*, run_id: str, thread_id: str, max_attempts: int) -> str:
    from atrium.runtime import dispatch

    ids = {"run": run_id, "thread": thread_id}
    cursor: Any
    with transaction.atomic(), connection.cursor() as cursor:
        cur = cursor
        # A worker paused inside a fenced checkpoint write holds a share lock on the run row (fencing.py)
        # until Postgres ends its idle transaction: wait a little, never the whole sweep.
        cur.execute(_LOCK_TIMEOUT)
        cur.execute(_LOCK_THREAD, ids)  # the claim's lock order: thread, then run
        cur.execute(_REQUEUE, {**ids, "max_attempts": max_attempts})
        row = cur.fetchone()
        if row is not None:
            logger.warning("run %s lost its worker (attempt %s); re-queued", run_id, row[0])
            transaction.on_commit(lambda: dispatch.enqueue_run(run_id), robust=True)
            return "requeued"
        error = {
            "error": "WorkerLost",
            "message": f"the run lost its worker {max_attempts} times (lease expired); giving up",
        }
        cur.execute(_GIVE_UP, {**ids, "error": Jsonb(error), "result": Jsonb({"__error__": error})})
        if cur.fetchone() is None:
            return ""  # renewed or finished meanwhile
        logger.error("run %s lost its worker %s times; ended as error", run_id, max_attempts)
        webhook_enqueue(run_id=run_id, values=None)
        cur.execute(_NEXT_PENDING, ids)
        pending = cur.fetchone()
        cur.execute(
            _SETTLE_THREAD,
            {
                **ids,
                "status": (ThreadStatus.BUSY if pending else ThreadStatus.ERROR).value,
                "error": None if pending else Jsonb(error),
            },
        )
        transaction.on_commit(
            lambda: dispatch.mark_done(thread_id, run_id, RunStatus.ERROR.value, error=error), robust=True
        )
        if pending is not None:
            next_id = str(pending[0])
            transaction.on_commit(lambda: dispatch.enqueue_run(next_id), robust=True)
    return "failed"


def runs_reconcile(*, after_seconds: int | None = None) -> int:
    """Re-enqueue claimable runs that have been pending too long. Returns how many were sent."""
    from atrium.runtime import dispatch

    after = settings.ATRIUM_RUN_RECONCILE_AFTER_SECONDS if after_seconds is None else after_seconds
    cursor: Any
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STALE_PENDING, {"after": after, "limit": BATCH})
        ids = [str(row[0]) for row in cursor.fetchall()]
        if not ids:
            return 0
        cursor.execute(_TOUCH, {"ids": ids})
        for run_id in ids:
            transaction.on_commit(lambda run_id=run_id: dispatch.enqueue_run(run_id), robust=True)  # type: ignore[misc]
    logger.info("re-enqueued %d pending runs", len(ids))
    return len(ids)
