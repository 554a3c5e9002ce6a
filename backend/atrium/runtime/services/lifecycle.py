"""Every transition of a run, in one place. Read this file to know who moves a run and how.

==================  ===========================  ====================  =================================
Transition          From -> to                   Called by             SQL
==================  ===========================  ====================  =================================
``create``          (none) -> pending            API, v2, crons,       INSERT under the thread's lock
                                                 consent, A2A/MCP      (``services/runs.py``)
``claim``           pending -> running           worker (executor)     ``atrium_run_claim`` (``sql/``)
``renew``           running -> running (lease)   worker heartbeat      ``_RENEW_LEASES``, fence-guarded
``finish``          running -> success, error,   worker (executor)     ``atrium_run_finish`` (``sql/``)
                    interrupted; or erased
                    (rollback)
``hand_back``       running -> pending           worker (drain,        ``_HAND_BACK``, fence-guarded
                                                 Postgres lost)
``cancel``          pending -> interrupted;      API, admin            ``services/runs.py``; a running
                    running -> (worker ends it)                        run is told via ``atrium:control``
``cancel_many``     as ``cancel``, many          API                   ``services/runs.py``
``cancel_for_       as ``cancel``, a removed     member removal        ``services/runs.py``
member``            member's runs
``retry``           finished -> new pending run  API, admin            ``services/runs.py`` (``create``)
``delete``          finished -> (none)           API (admins)          ``services/runs.py``
``sweep``           running, lease lapsed ->     watchdog              ``services/recovery.py``:
                    pending (new fence), or                            ``_REQUEUE`` / ``_GIVE_UP``
                    error past the attempt bound
``requeue``         pending -> pending, re-sent  watchdog              ``services/recovery.py``:
                                                                       ``_STALE_PENDING``, ``_TOUCH``
==================  ===========================  ====================  =================================

An attempt ends with a `FinishOutcome`. Its stored values (`STORED_OUTCOMES`) are the `RunStatus` values
the run row keeps; the others are not statuses: `DRAINED` (handed back to pending), `ROLLED_BACK` (the
run is erased) and `FENCED` (another worker owns the run now; nothing is recorded).

Every write of the worker is fenced: it applies only while the run still carries the attempt's fence
(a sweep bumps it), so an attempt that lost its lease records nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import connection
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import PoolTimeout

from atrium.core.metrics import run_latency
from atrium.runtime.models import RunStatus, ThreadStatus
from atrium.runtime.services.execution import RunClaim, claim_from_row
from atrium.runtime.services.recovery import runs_reconcile, runs_sweep
from atrium.runtime.services.runs import (
    run_cancel,
    run_cancel_for_member,
    run_cancel_many,
    run_create,
    run_delete,
    run_retry,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")


class FinishOutcome(StrEnum):
    """How an attempt of a run ended. The stored ones equal the `RunStatus` written on the run."""

    SUCCESS = RunStatus.SUCCESS.value
    ERROR = RunStatus.ERROR.value
    INTERRUPTED = RunStatus.INTERRUPTED.value
    DRAINED = "drained"  # handed back to pending: another attempt resumes it from its checkpoint
    ROLLED_BACK = "rollback"  # cancelled with action=rollback: the run and its checkpoints are erased
    FENCED = "fenced"  # the lease was taken over: another worker owns the run, nothing is recorded


# The outcomes written as the run's status.
STORED_OUTCOMES = frozenset({FinishOutcome.SUCCESS, FinishOutcome.ERROR, FinishOutcome.INTERRUPTED})


@dataclass
class RunResult:
    """How an attempt ended, as the worker saw it."""

    status: FinishOutcome
    result: Any = None  # the /wait body
    error: dict[str, Any] | None = None
    values: Any = None
    interrupts: dict[str, Any] | None = None
    next: list[str] | None = None
    checkpoint_end: dict[str, Any] | None = None
    call_counts: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.status = FinishOutcome(self.status)  # a bare string is checked here, once


# --- create, cancel, retry: the API side (implemented with the thread's lock in services/runs.py) ----
create = run_create
cancel = run_cancel
cancel_many = run_cancel_many  # a thread's runs (or runs by status), each as `cancel`
cancel_for_member = run_cancel_for_member  # a removed member's runs (a member-removal step)
retry = run_retry
delete = run_delete  # a finished run, and its checkpoints

# --- sweep, requeue: recovery (services/recovery.py, run by the watchdog) ----------------------------
sweep = runs_sweep
requeue = runs_reconcile


# --- claim --------------------------------------------------------------------------------------------
# The claim and finish are the worker's hot path: each is one call of a Postgres function, in
# autocommit (migration 0007 holds them, ADR 0016). A claim locks the thread's row, then the org's cap
# lock (when the org has a cap), then claims in a statement of its own, so it sees every claim committed
# before the locks were granted. Claimable: pending, due, and nothing running or queued ahead on the
# thread (FIFO); not when the org is at its cap. Only a pending run is turned away for the cap, so a
# redelivered message of a running or finished run never loops. It returns what the worker needs of the
# assistant and the user, and the org's sealed workspace secrets.
_CLAIM = "SELECT * FROM atrium_run_claim(%(run)s, %(worker)s, %(lease)s, %(default_cap)s)"


def _claim_params(run_id: str, worker_id: str) -> dict[str, Any]:
    return {
        "run": run_id,
        "worker": worker_id,
        "lease": float(settings.ATRIUM_RUN_LEASE_SECONDS),
        "default_cap": max(settings.ATRIUM_MAX_CONCURRENT_RUNS, 0),
    }


async def claim(conn: Any, *, run_id: str, worker_id: str) -> RunClaim | None:
    """Take a pending run for execution, on a connection of the worker's async pool (autocommit), or
    None if it is not this worker's to run now.

    None covers: already claimed (a redelivered message), cancelled, not yet due, or another run of
    the same thread is running or queued ahead (it will enqueue this one when it finishes).
    RunsAtCapacityError: the org is at its concurrent-run cap; the run stays pending.
    """
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_CLAIM, _claim_params(run_id, worker_id))
        return claim_from_row(run_id, await cur.fetchone())


# --- renew --------------------------------------------------------------------------------------------
# The heartbeat: extend the lease only while the fence is still ours. No row back means the run was
# reclaimed (or cancelled, or finished by someone else): the worker must stop executing it. The row
# carries a cancel requested meanwhile, in case its pub/sub message was lost (Redis restarted).
_RENEW_LEASES = """
UPDATE runtime_run r SET lease_expires_at = now() + make_interval(secs => %(lease)s)
FROM unnest(%(runs)s::uuid[], %(fences)s::integer[]) AS held(id, fence)
WHERE r.id = held.id AND r.fence = held.fence AND r.status = 'running'
RETURNING r.id::text, r.cancel_action
"""


async def renew(conn: Any, *, fences: dict[str, int]) -> dict[str, str]:
    """Extend the leases of the running runs a worker process holds (run id → fence), in one
    statement. Returns run id → cancel action ("" for none) for the runs whose fence is still ours:
    a run missing from it was taken over. The rows are locked in id order, as any batch of them."""
    held = sorted(fences.items())
    params = {
        "runs": [run_id for run_id, _ in held],
        "fences": [fence for _, fence in held],
        "lease": settings.ATRIUM_RUN_LEASE_SECONDS,
    }
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_RENEW_LEASES, params)
        return {str(run_id): str(cancel or "") for run_id, cancel in await cur.fetchall()}


# --- finish -------------------------------------------------------------------------------------------
# The run's end (or its erasure, for a rollback), the thread's state and the thread's next pending
# run (whose message the worker sends), under the thread's lock: one call (migration 0007). No row
# back: fenced off, another worker owns the run now.
_FINISH = """
SELECT * FROM atrium_run_finish(%(run)s, %(fence)s, %(thread)s, %(erase)s, %(status)s, %(result)s,
    %(error)s, %(checkpoint_end)s, %(call_counts)s, %(values)s, %(next)s, %(interrupts)s,
    %(thread_error)s, %(thread_status)s, %(busy)s)
"""
# Postgres away when an attempt ends (restarting): keep trying for about a minute before leaving the
# run to its lease (the sweeper then hands it to a worker that finds it complete at its checkpoint).
FINISH_RETRY_SECONDS = 60.0
_FINISHED_HERE = """
SELECT status FROM runtime_run WHERE id = %(run)s AND fence = %(fence)s AND status <> 'running'
"""


@dataclass
class _Ended:
    """What one try of `finish` committed, and what it leaves to do once committed."""

    status: FinishOutcome
    latency: float | None = None  # the run's, from creation to end, for /metrics
    enqueue: str | None = None  # a run whose message to send: the thread's next, or the one handed back
    delivery: str | None = None  # a webhook delivery whose task to send


async def finish(claim: RunClaim, outcome: RunResult) -> FinishOutcome:
    """Record the end of an attempt (or hand it back, for `DRAINED`) on the worker's pool, then enqueue
    the thread's next pending run. Returns the outcome recorded, `FENCED` when another worker owns
    the run.

    The common end is one statement (autocommit). A webhook delivery is recorded in the same
    transaction as the end, so a finished run with a webhook always has its delivery row. Tried again
    while Postgres is away, for `FINISH_RETRY_SECONDS`; then the error propagates and the run is left
    to its lease."""
    from atrium.runtime.persistence import persistence

    pool = (await persistence()).pool
    deadline = time.monotonic() + FINISH_RETRY_SECONDS
    delay = 0.2
    sent = False  # a try reached Postgres: it may have committed before its connection died
    while True:
        try:
            async with pool.connection() as conn:
                maybe_committed, sent = sent, True
                ended = await _finish_once(conn, claim=claim, outcome=outcome)
                if ended.status == FinishOutcome.FENCED and maybe_committed:
                    # The run still carries this attempt's fence (only a takeover changes it), so an
                    # end there is ours, committed by the try whose connection died.
                    ended = await _finished_here(conn, claim=claim, outcome=outcome) or ended
            break
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout):
            if time.monotonic() + delay >= deadline:
                raise
            logger.warning(
                "finishing run %s: Postgres unreachable; retrying in %.1f s",
                claim.run_id,
                delay,
                exc_info=True,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    await _after_commit(claim, ended)
    return ended.status


async def _finish_once(conn: Any, *, claim: RunClaim, outcome: RunResult) -> _Ended:
    """One try of `finish` on a pool connection (autocommit)."""
    if outcome.status == FinishOutcome.DRAINED:
        return await _hand_back(conn, claim=claim)
    webhook = outcome.status != FinishOutcome.ROLLED_BACK and bool(claim.kwargs.get("webhook"))
    # Without a webhook delivery to record with it, the end commits in its one round trip.
    async with (
        conn.transaction() if webhook else contextlib.nullcontext(),
        conn.cursor(row_factory=tuple_row) as cur,
    ):
        await cur.execute(_FINISH, _finish_params(claim, outcome))
        finished = await cur.fetchone()
        if finished is None:
            return _Ended(FinishOutcome.FENCED)
        latency, next_id = finished
        delivery = None
        if webhook:
            from atrium.runtime.services.webhooks import webhook_record

            delivery = await webhook_record(cur, run_id=claim.run_id, values=outcome.values)
    return _Ended(
        outcome.status,
        latency=None if latency is None else float(latency),
        enqueue=None if next_id is None else str(next_id),
        delivery=delivery,
    )


async def _finished_here(conn: Any, *, claim: RunClaim, outcome: RunResult) -> _Ended | None:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_FINISHED_HERE, {"run": claim.run_id, "fence": claim.fence})
        row = await cur.fetchone()
    if row is None:
        return None
    if outcome.status == FinishOutcome.DRAINED:
        return _Ended(FinishOutcome.DRAINED, enqueue=claim.run_id)
    # The thread's next run, if any, waits for the reconciler: which one the lost try found is unknown.
    return _Ended(FinishOutcome(row[0]))


async def _after_commit(claim: RunClaim, ended: _Ended) -> None:
    """The messages of a committed end. A broker that fails here fails nothing: the reconcilers of runs
    and of webhook deliveries send them later (as `on_commit(robust=True)` does for the API)."""
    from atrium.runtime import dispatch
    from atrium.runtime.services.webhooks import webhook_send

    if ended.latency is not None:
        run_latency.observe(ended.latency, ended.status.value)
    if ended.enqueue is not None:
        try:
            await asyncio.to_thread(dispatch.enqueue_run, ended.enqueue)
        except Exception:
            logger.exception("could not enqueue run %s of thread %s", ended.enqueue, claim.thread_id)
    if ended.delivery is not None:
        try:
            await asyncio.to_thread(webhook_send, ended.delivery)
        except Exception:
            logger.exception("could not send webhook delivery %s of run %s", ended.delivery, claim.run_id)


def _finish_params(claim: RunClaim, outcome: RunResult) -> dict[str, Any]:
    status = outcome.status
    error = outcome.error if status == FinishOutcome.ERROR else None
    # For a rollback the worker erased the run's checkpoints first; the outcome holds the head's state.
    next_nodes = outcome.next or []
    interrupts = outcome.interrupts or {}
    if error:
        thread_status = ThreadStatus.ERROR
    elif next_nodes or interrupts:
        thread_status = ThreadStatus.INTERRUPTED
    else:
        thread_status = ThreadStatus.IDLE
    return {
        "run": claim.run_id,
        "fence": claim.fence,
        "thread": claim.thread_id,
        "erase": status == FinishOutcome.ROLLED_BACK,
        "status": status.value,
        "result": Jsonb(outcome.result),
        "error": Jsonb(outcome.error) if outcome.error is not None else None,
        "checkpoint_end": Jsonb(outcome.checkpoint_end) if outcome.checkpoint_end else None,
        "call_counts": Jsonb(outcome.call_counts) if outcome.call_counts is not None else None,
        "values": Jsonb(outcome.values),
        "next": Jsonb(next_nodes),
        "interrupts": Jsonb(interrupts),
        "thread_error": Jsonb(error) if error is not None else None,
        "thread_status": thread_status.value,
        "busy": ThreadStatus.BUSY.value,
    }


# --- hand back ----------------------------------------------------------------------------------------
_LOCK_THREAD = "SELECT id FROM runtime_thread WHERE id = %(thread)s FOR UPDATE"
_HAND_BACK = """
UPDATE runtime_run SET status = 'pending', lease_owner = '', lease_expires_at = NULL, updated_at = now()
WHERE id = %(run)s AND fence = %(fence)s AND status = 'running'
RETURNING id
"""


async def _hand_back(conn: Any, *, claim: RunClaim) -> _Ended:
    """Give a running attempt back to `pending` (a drain at shutdown, or Postgres lost mid-step): the
    message `finish` sends then has another attempt resume it from its checkpoint. The thread is locked
    first, the claim's lock order. `FENCED`: another worker owns the run now."""
    ids = {"run": claim.run_id, "fence": claim.fence, "thread": claim.thread_id}
    async with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_LOCK_THREAD, ids)
        await cur.execute(_HAND_BACK, ids)
        if await cur.fetchone() is None:
            return _Ended(FinishOutcome.FENCED)
    return _Ended(FinishOutcome.DRAINED, enqueue=claim.run_id)


async def off_loop(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a Django-ORM service off the worker's loop, on a helper thread, and give its connection
    back (the helper threads are the loop's own: nothing else would ever close it)."""

    def call() -> T:
        try:
            return func(**kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(call)


__all__ = [
    "FINISH_RETRY_SECONDS",
    "STORED_OUTCOMES",
    "FinishOutcome",
    "RunResult",
    "cancel",
    "cancel_for_member",
    "cancel_many",
    "claim",
    "create",
    "delete",
    "finish",
    "off_loop",
    "renew",
    "requeue",
    "retry",
    "sweep",
]
