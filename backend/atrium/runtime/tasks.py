"""Celery tasks of the runtime: thin; they take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection

from atrium.core.tenancy import system_scope
from atrium.runtime.dispatch import RUNS_QUEUE
from atrium.runtime.services.crons import cron_tick
from atrium.runtime.services.execution import run_claim, run_finish, temporary_thread_delete

logger = logging.getLogger(__name__)
# A tick left in the queue longer than this is dropped: a newer one has been sent meanwhile.
CRONS_TICK_EXPIRES = 30


@shared_task(
    name="atrium.runtime.execute_run",
    queue=RUNS_QUEUE,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def execute_run(run_id: str) -> None:
    """Execute one run. Redelivery is harmless: only a pending run can be claimed."""
    from atrium.runtime.executor import execute, publish_end, worker_loop

    claim = run_claim(run_id=run_id, worker_id=execute_run.request.hostname or "worker")
    if claim is None:
        return
    # Give the Django connection back to the pool while the graph runs (on its own pool): a task thread
    # must not hold one for the length of a run, or a few long runs would starve every other task.
    connection.close()
    loop = worker_loop()
    outcome, terminal = loop.run(execute(claim))
    status = run_finish(claim=claim, outcome=outcome)
    if status and status != "drained":
        if status == "rollback":
            loop.run(publish_end(claim, terminal, "interrupted"))
        else:
            loop.run(publish_end(claim, terminal, status, result=outcome.result))
    if claim.temporary_thread and claim.kwargs.get("on_completion", "delete") == "delete":
        temporary_thread_delete(thread_id=claim.thread_id)


@shared_task(name="atrium.runtime.crons_tick", acks_late=True, ignore_result=True, expires=CRONS_TICK_EXPIRES)
def crons_tick() -> int:
    """Fire the crons that are due (beat sends this every few seconds). Any number of beats or workers
    may run it at once: each tick of a cron is claimed by exactly one. No retry: the next beat is one."""
    with system_scope():
        return cron_tick()
