"""Every transition of a run, in one place, and the only entry point for them: the API, the admin,
crons, the watchdog and the worker call this module. Read it to know who moves a run and how.

==================  ===========================  ====================  =================================
Transition          From -> to                   Called by             SQL (here unless named)
==================  ===========================  ====================  =================================
``create``          (none) -> pending            API, v2, crons,       INSERT under the thread's lock
                                                 consent, A2A/MCP      (``services/runs.py``);
                                                                       ``create_batch``: all or none
``claim``           pending -> running           worker (executor)     ``atrium_run_claim`` (``sql/``)
``renew``           running -> running (lease)   worker heartbeat      ``_RENEW_LEASES``, fence-guarded
``finish``          running -> success, error,   worker (executor)     ``atrium_run_finish`` (``sql/``)
                    interrupted; or erased                             (+ the webhook delivery row, in
                    (rollback)                                         one transaction)
(hand back)         running -> pending           worker: ``finish``    ``_HAND_BACK``, fence-guarded
                                                 with ``DRAINED``
                                                 (drain, Postgres
                                                 lost)
``cancel``          pending -> interrupted;      API, admin            ORM under the thread's lock; a
                    running -> (worker ends it)                        running run is told via
                                                                       ``atrium:control``
``cancel_many``     as ``cancel``, many          API                   as ``cancel``
``cancel_for_       as ``cancel``, a removed     member removal        as ``cancel``
member``            member's runs
``retry``           finished -> new pending run  API, admin            ``create``
``delete``          finished -> (none)           API (admins)          ORM under the thread's lock
``sweep``           running, lease lapsed ->     watchdog              ``_REQUEUE`` / ``_GIVE_UP``
                    pending (new fence), or
                    error past the attempt bound
``requeue``         pending -> pending, re-sent  watchdog              ``_STALE_PENDING``, ``_TOUCH``
==================  ===========================  ====================  =================================

Who finishes a run: its worker, through `finish` (the only writer of an attempt's end); a pending run
cancelled, through `cancel`; a run that keeps losing its worker, through `sweep` (`error`). Each path
records the run's webhook delivery in the transaction that ends the run.

The worker's transitions (claim, renew, finish) are async, on its loop's connection pool (autocommit;
a transaction only where the end has a webhook delivery or is a hand-back). The API's, admin's and
beat's (create, cancel, retry, delete, sweep, requeue) are sync Django code in their own transactions.
`services/runs.py` holds the body of `create` (request checks and the insert statement) and the
thread-locked helpers `create` and `cancel` share; nothing else imports it.

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
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import OperationalError, connection, transaction
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import PoolTimeout

from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.metrics import run_latency
from atrium.core.tenancy import Permission, Role, Scope, current_scope, scoped
from atrium.orgs.models import Membership
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run, RunStatus, ThreadStatus
from atrium.runtime.selectors.threads import as_uuid, thread_queryset
from atrium.runtime.services import runs
from atrium.runtime.services.execution import RunClaim, claim_from_row
from atrium.runtime.services.webhooks import webhook_enqueue

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


# --- create: the API side ----------------------------------------------------------------------------
# A new pending run (API, v2, crons, consent, A2A/MCP): `services/runs.py::run_create` checks the request
# (permission, limits, budgets, overrides, webhook) and inserts the run under the thread's lock, with the
# multitask strategy (`enqueue`, `reject`, or `interrupt`/`rollback`, which cancel the active runs with
# the code `cancel` uses, `runs.cancel_locked`). Its messages go out once committed.
create = runs.run_create
RunCreate = runs.RunCreate


def batch_length_check(count: int) -> None:
    """Refuse a batch of more runs than ATRIUM_RUNS_BATCH_MAX (422): `create_batch`, and the custom
    auth middleware before it runs the deployment's handler once per run."""
    limit: int = settings.ATRIUM_RUNS_BATCH_MAX
    if count > limit:
        raise ValidationFailedError(
            f"A batch holds at most {limit} runs (ATRIUM_RUNS_BATCH_MAX); this one has {count}.",
            code="batch_too_long",
        )


def create_batch(*, payloads: list[RunCreate]) -> list[Run]:
    """Stateless runs of one request (`POST /runs/batch`), all or none: one that is refused rolls back
    the others, and none is sent to a worker before the whole batch is committed, so a client that
    retries a refused batch never finds half of it already running. Its length is bounded, since
    the batch is one transaction (its row locks held until the last insert)."""
    batch_length_check(len(payloads))
    key_max = Run._meta.get_field("idempotency_key").max_length or 0
    room = key_max - len(f"#{len(payloads) - 1}")
    for index, payload in enumerate(payloads):
        if payload.idempotency_key:
            # The request's one Idempotency-Key, made each run's own by its place in the batch: a
            # retried batch finds its runs again, one each (not the first run once per item).
            payload.idempotency_key = f"{payload.idempotency_key}#{index}"
            if len(payload.idempotency_key) > key_max:
                raise ValidationFailedError(
                    f"The Idempotency-Key of a batch of {len(payloads)} runs must be at most {room} "
                    "characters (each run's key adds its place in the batch)."
                )
    with transaction.atomic():
        return [create(thread_id=None, payload=payload, stateless=True) for payload in payloads]


MULTITASK_STRATEGIES = runs.MULTITASK_STRATEGIES
CANCEL_ACTIONS = runs.CANCEL_ACTIONS


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


# --- cancel, delete, retry: the API side, under the thread's lock ---------------------------------------
# A pending run ends `interrupted` here (or is erased, for `rollback`) and its thread is settled; a
# running one gets `cancel_action` and a message on `atrium:control`: its worker ends it through
# `finish` (and the claim of a run cancelled while its worker was dead ends it without a step).


def cancel(*, thread_id: uuid.UUID | str, run_id: uuid.UUID | str, action: str = "interrupt") -> Run | None:
    """Cancel one run. Returns the run (None if rolled back while pending: it no longer exists)."""
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    _check_cancel_action(action)
    with transaction.atomic():
        thread = runs.locked_thread(as_uuid(thread_id))
        if thread is None:
            raise NotFoundError("No runs found to cancel.")
        run = Run.objects.filter(thread=thread, id=as_uuid(run_id, "run")).first()
        if run is None:
            raise NotFoundError("No runs found to cancel.")
        if run.status not in ACTIVE_RUN_STATUSES:
            return run
        was_pending = run.status == RunStatus.PENDING
        controls = runs.cancel_locked(thread, [run], action=action)
        if was_pending:
            runs.settle_thread(thread)
        runs.after_commit_send(None, controls)
        if was_pending:
            transaction.on_commit(lambda: _notify_cancelled_pending(str(thread.id), str(run.id)), robust=True)
    if was_pending and action == "rollback":
        return None
    try:
        run.refresh_from_db()
    except Run.DoesNotExist:
        return None  # a rollback its worker carried out meanwhile: the run no longer exists
    return run


def retry(*, run_id: uuid.UUID | str) -> Run:
    """Start a finished run's turn again: a new run on the same thread, with the same assistant and
    request, from the checkpoint the old run started from. It is refused (409) while the thread is
    busy rather than queued behind work a user started since."""
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    run = Run.objects.filter(id=as_uuid(run_id, "run")).first()
    if run is None:
        raise NotFoundError("Run not found.")
    if run.status in ACTIVE_RUN_STATUSES:
        raise ConflictError("The run is still active; cancel it first.", code="run_active")
    kwargs = {key: value for key, value in (run.kwargs or {}).items() if key in RETRYABLE_FIELDS}
    if run.checkpoint_start:
        kwargs["checkpoint"] = run.checkpoint_start
    metadata = {k: v for k, v in run.metadata.items() if k not in (*runs.RESERVED_METADATA, "graph_id")}
    payload = runs.RunCreate(
        assistant_id=str(run.assistant_id),
        metadata={**metadata, "retry_of": str(run.id)},
        multitask_strategy="reject",
        **kwargs,
    )
    return create(thread_id=run.thread_id, payload=payload)


RETRYABLE_FIELDS = frozenset(runs.RunCreate.__dataclass_fields__) - {
    "assistant_id",
    "metadata",
    "multitask_strategy",
    "idempotency_key",
    "cron_id",
    "after_seconds",
}


def _check_cancel_action(action: str) -> None:
    if action not in runs.CANCEL_ACTIONS:
        raise ValidationFailedError(f"action must be one of {list(runs.CANCEL_ACTIONS)}.")


def _notify_cancelled_pending(thread_id: str, run_id: str) -> None:
    from atrium.runtime import dispatch

    dispatch.mark_done(thread_id, run_id, RunStatus.INTERRUPTED)


def cancel_many(*, thread_id: str | None, run_ids: list[str] | None, status: str | None, action: str) -> int:
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    _check_cancel_action(action)
    active = Run.objects.filter(status__in=ACTIVE_RUN_STATUSES, thread__in=thread_queryset())
    if thread_id is not None:
        ids = [as_uuid(r, "run") for r in run_ids or []]
        active = active.filter(thread_id=as_uuid(thread_id), id__in=ids)
    elif status in ("pending", "running"):
        active = active.filter(status=status)
    count = 0
    for thread_id_, run_id in list(active.values_list("thread_id", "id")):
        cancel(thread_id=thread_id_, run_id=run_id, action=action)
        count += 1
    return count


def cancel_for_member(*, membership: Membership) -> int:
    """Cancel every pending and running run a departing member started in their org (a removal step,
    atrium.orgs.services.membership_remove): pending runs end interrupted, running ones are told to
    stop on `atrium:control`. Runs in the org's admin scope, unnarrowed: none of theirs may be missed."""
    scope = Scope(user_id=current_scope().user_id, org_id=membership.org_id, role=Role.ADMIN)
    with scoped(scope):
        theirs = list(
            Run.objects.filter(user_id=membership.user_id, status__in=ACTIVE_RUN_STATUSES)
            .order_by("thread_id", "created_at")
            .values_list("thread_id", "id")
        )
        for thread_id, run_id in theirs:
            with contextlib.suppress(NotFoundError):  # its thread was deleted meanwhile: nothing to stop
                cancel(thread_id=thread_id, run_id=run_id, action="interrupt")
    return len(theirs)


def delete(*, thread_id: uuid.UUID | str, run_id: uuid.UUID | str) -> None:
    """Only admins delete runs (whoever may use the thread may cancel them)."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    with transaction.atomic():
        thread = runs.locked_thread(as_uuid(thread_id))
        run = Run.objects.filter(thread=thread, id=as_uuid(run_id, "run")).first() if thread else None
        if run is None:
            raise NotFoundError("Run not found.")
        if run.status in ACTIVE_RUN_STATUSES:
            raise ConflictError("Cannot delete an active run; cancel it first.", code="run_active")
        run.delete()


# --- sweep, requeue: recovery (the watchdog, a thread in every worker process) ------------------------
# The run row in Postgres is the source of truth; the broker only carries wake-ups. So recovery is two
# queries on the rows:
#
# * `sweep` finds `running` runs whose lease lapsed (their worker died, or lost Postgres for longer than
#   a lease) and hands them back to `pending` with a new fence, so the old worker's heartbeat and finish
#   are refused, then re-enqueues them; past the attempt bound it ends them `error` and settles the
#   thread instead. A run cancelled while its worker was dead is re-enqueued whatever its attempts: the
#   worker that claims it ends it cancelled (`interrupted`, or erased for a rollback) without running a
#   step, through the same code as a live cancel;
# * `requeue` re-enqueues `pending` runs that could be claimed but have waited too long: their message
#   may have been lost with Redis, or with the prefetch buffer of a killed worker.
#
# Both are idempotent and safe to run from any number of processes at once: each change is a guarded UPDATE
# under the thread's row lock (the lock order of the claim), and a duplicate message claims nothing.
BATCH = 200

_EXPIRED = """
SELECT id, thread_id FROM runtime_run
WHERE status = 'running' AND lease_expires_at < now()
ORDER BY lease_expires_at LIMIT %(limit)s
"""
_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '2s'"
_REQUEUE = """
UPDATE runtime_run SET status = 'pending', fence = fence + 1, lease_owner = '', lease_expires_at = NULL,
    updated_at = now()
WHERE id = %(run)s AND status = 'running' AND lease_expires_at < now()
  AND (attempt < %(max_attempts)s OR cancel_action <> '')
RETURNING attempt
"""
_GIVE_UP = """
UPDATE runtime_run SET status = %(status)s, fence = fence + 1, error = %(error)s, result = %(result)s,
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


def sweep(*, max_attempts: int | None = None) -> dict[str, int]:
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
        cur.execute(
            _GIVE_UP,
            {
                **ids,
                "status": RunStatus.ERROR.value,
                "error": Jsonb(error),
                "result": Jsonb({"__error__": error}),
            },
        )
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


def requeue(*, after_seconds: int | None = None) -> int:
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
    "CANCEL_ACTIONS",
    "FINISH_RETRY_SECONDS",
    "MULTITASK_STRATEGIES",
    "STORED_OUTCOMES",
    "FinishOutcome",
    "RunCreate",
    "RunResult",
    "batch_length_check",
    "cancel",
    "cancel_for_member",
    "cancel_many",
    "claim",
    "create",
    "create_batch",
    "delete",
    "finish",
    "off_loop",
    "renew",
    "requeue",
    "retry",
    "sweep",
]
