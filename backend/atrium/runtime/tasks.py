"""Celery tasks of the runtime: thin; they take ids and call services."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from celery import shared_task
from celery.signals import worker_init, worker_shutdown, worker_shutting_down
from django.conf import settings

from atrium.core.logs import bind_log_ids
from atrium.core.tenancy import system_scope
from atrium.runtime.dispatch import EXECUTE_RUN, RUNS_QUEUE, WEBHOOKS_QUEUE
from atrium.runtime.services.cleanup import threads_expire as expire_threads
from atrium.runtime.services.crons import cron_tick
from atrium.runtime.services.sandboxes import sandboxes_expire as expire_sandboxes
from atrium.runtime.services.store import store_ttl_sweep as sweep_store_ttl
from atrium.runtime.services.webhooks import webhook_deliver, webhooks_reconcile

logger = logging.getLogger(__name__)
# A tick left in the queue longer than this is dropped: a newer one has been sent meanwhile.
CRONS_TICK_EXPIRES = 30
# Set by a warm shutdown of this worker process.
_shutting_down = threading.Event()


@shared_task(
    name=EXECUTE_RUN,
    queue=RUNS_QUEUE,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def execute_run(run_id: str) -> None:
    """Hand one run to this process's run host (`executor.WorkerLoop`) and return once it is claimed
    and running there: the message is acknowledged while the run goes on, to its finish, on the loop.
    From then on its lease, fence and the watchdog's sweeper recover it if this process dies.
    Redelivery is harmless: only a pending run can be claimed, and a claimed run holds a fenced lease
    (a second copy of the message, or a worker that lost the lease, records nothing)."""
    from atrium.runtime.dispatch import enqueue_run
    from atrium.runtime.executor import worker_loop

    if _shutting_down.is_set():
        # The warm shutdown began while this task was starting (see `_drain_on_shutdown`): leave the
        # run to another worker rather than start it here.
        enqueue_run(run_id)
        return
    loop = worker_loop()
    if not loop.take_slot(_shutting_down):
        enqueue_run(run_id)  # the shutdown began while this process was full
        return
    done = loop.host(run_id, execute_run.request.hostname or "worker")
    if done.claim is not None:  # the task's own lines (Celery's "succeeded") name the run's thread too
        bind_log_ids(thread_id=done.claim.thread_id, org_id=done.claim.org_id)
    if done.at_capacity:
        enqueue_run(run_id, delay=settings.ATRIUM_CAPACITY_RETRY_SECONDS)


@shared_task(name="atrium.runtime.crons_tick", acks_late=True, ignore_result=True, expires=CRONS_TICK_EXPIRES)
def crons_tick() -> int:
    """Fire the crons that are due (beat sends this every few seconds). Any number of beats or workers
    may run it at once: each tick of a cron is claimed by exactly one. No retry: the next beat is one."""
    with system_scope():
        return cron_tick()


@worker_init.connect
def _start_watchdog(**kwargs: Any) -> None:
    """Every worker process sweeps expired leases and reconciles the queue on a thread of its own
    (`watchdog.py`), so recovery never waits behind runs for a task slot."""
    from atrium.runtime.watchdog import watchdog_start

    watchdog_start()


@shared_task(
    name="atrium.runtime.deliver_webhook",
    bind=True,
    queue=WEBHOOKS_QUEUE,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_webhook(self: Any, delivery_id: str) -> None:
    """One attempt at a run's webhook; the service records it and says whether to retry (bounded by
    ATRIUM_WEBHOOK_MAX_ATTEMPTS, with exponential backoff). A redelivered message finds the delivery
    no longer pending, leased or not yet due, and does nothing."""
    attempt = webhook_deliver(delivery_id=delivery_id)
    if not attempt.done:
        raise self.retry(countdown=attempt.retry_in, max_retries=None)


@shared_task(
    name="atrium.runtime.webhooks_reconcile", queue=WEBHOOKS_QUEUE, acks_late=True, ignore_result=True
)
def reconcile_webhooks() -> int:
    """Re-send pending deliveries whose message was lost (beat). No retry: the next beat is one."""
    return webhooks_reconcile()


@worker_shutting_down.connect
def _drain_on_shutdown(sig: Any = None, how: str = "", exitcode: Any = None, **kwargs: Any) -> None:
    """Warm shutdown (SIGTERM): running graphs get the grace period, then stop at their next step and
    are handed back to `pending` for another worker, which resumes them from their checkpoint. Runs
    outlive their tasks, so `_wait_for_runs` holds the process until each end is committed."""
    if how != "Warm":
        return  # a cold shutdown does not wait: the leases expire and the sweeper reclaims the runs
    _shutting_down.set()
    # Only a process that has run a graph has the executor loaded. Importing it here would race a task
    # thread importing it at this moment ("partially initialized module"); such a task sees the flag.
    executor = sys.modules.get("atrium.runtime.executor")
    drain = getattr(executor, "drain_on_shutdown", None)
    if drain is not None:
        drain(float(settings.ATRIUM_SHUTDOWN_GRACE_SECONDS))


@worker_shutdown.connect
def _wait_for_runs(**kwargs: Any) -> None:
    """After a warm shutdown stopped the consumer and the task threads: wait for the runs this process
    hosts to finish or be handed back (the drain began in `_drain_on_shutdown`). Here, not in that
    signal handler, which runs on the main thread wherever the signal interrupted it. A cold shutdown
    does not wait: the leases lapse and the sweeper hands the runs to another worker."""
    executor = sys.modules.get("atrium.runtime.executor")
    if _shutting_down.is_set() and executor is not None:
        executor.wait_drained()


@shared_task(name="atrium.runtime.threads_expire", acks_late=True, ignore_result=True)
def threads_expire() -> dict[str, int]:
    """Apply thread TTLs (beat). No retry: the next beat is one."""
    return expire_threads()


@shared_task(name="atrium.runtime.store_ttl_sweep", acks_late=True, ignore_result=True)
def store_ttl_sweep() -> int:
    """Delete store items past their TTL (beat). No retry: the next beat is one."""
    return sweep_store_ttl()


@shared_task(name="atrium.runtime.sandboxes_expire", acks_late=True, ignore_result=True)
def sandboxes_expire() -> int:
    """Delete agent sandboxes past their TTL (beat). No retry: the next beat is one."""
    return len(expire_sandboxes())
