"""The worker's writes: claim a run, finish it, hand it back. Called by tasks only."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from atrium.assistants.models import Assistant
from atrium.runtime import checkpoints
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run, RunStatus, Thread, ThreadStatus
from atrium.runtime.services.runs import LEASE_SECONDS

# Client config keys the server owns: never taken from a request (§3 "cannot spoof").
RESERVED_CONFIGURABLE = (
    "thread_id",
    "run_id",
    "graph_id",
    "assistant_id",
    "user_id",
    "org_id",
    "langgraph_auth_user",
    "langgraph_auth_user_id",
    "langgraph_auth_permissions",
    "langgraph_request_id",
)


@dataclass(frozen=True)
class RunClaim:
    """Everything a worker needs to execute one attempt of a run, as plain data."""

    run_id: str
    thread_id: str
    org_id: str
    user_id: int | None
    user_email: str
    user_role: str
    assistant_id: str
    graph_id: str
    attempt: int
    fence: int
    config: dict[str, Any]
    context: dict[str, Any]
    kwargs: dict[str, Any]
    temporary_thread: bool


def _merge_config(*layers: dict[str, Any]) -> dict[str, Any]:
    """Assistant config → thread config → request config: later wins; `configurable` and `metadata`
    merge key by key and `tags` accumulate."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key in ("configurable", "metadata") and isinstance(value, dict):
                merged[key] = {**merged.get(key, {}), **value}
            elif key == "tags" and isinstance(value, list):
                merged[key] = [*merged.get(key, []), *value]
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def _role_of(run: Run) -> str:
    from atrium.orgs.models import Membership

    if run.user_id is None:
        return ""
    membership = Membership.unscoped.filter(org_id=run.org_id, user_id=run.user_id).only("role").first()
    return membership.role if membership else ""


def run_claim(*, run_id: str, worker_id: str) -> RunClaim | None:
    """Take a pending run for execution, or None if it is not this worker's to run now.

    None covers: already claimed (a redelivered message), cancelled, not yet due, or another run of
    the same thread is running or queued ahead (it will enqueue this one when it finishes).
    """
    now = timezone.now()
    with transaction.atomic():
        head = Run.unscoped.filter(id=run_id).values("thread_id").first()
        if head is None:
            return None
        thread = Thread.unscoped.select_for_update().get(id=head["thread_id"])
        run = Run.unscoped.select_for_update(of=("self",)).select_related("user").get(id=run_id)
        if run.status != RunStatus.PENDING or (run.not_before and run.not_before > now):
            return None
        ahead = (
            Run.unscoped.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES)
            .exclude(id=run.id)
            .filter(created_at__lt=run.created_at)
            .exists()
        )
        if ahead or Run.unscoped.filter(thread=thread, status=RunStatus.RUNNING).exists():
            return None
        assistant = Assistant.unscoped.filter(id=run.assistant_id, org_id=run.org_id).first()
        run.status = RunStatus.RUNNING
        run.attempt += 1
        run.fence += 1
        run.lease_owner = worker_id
        run.lease_expires_at = now + timedelta(seconds=LEASE_SECONDS)
        run.started_at = run.started_at or now
        run.save(
            update_fields=[
                "status",
                "attempt",
                "fence",
                "lease_owner",
                "lease_expires_at",
                "started_at",
                "updated_at",
            ]
        )
        if thread.status != ThreadStatus.BUSY:
            thread.status = ThreadStatus.BUSY
            thread.save(update_fields=["status", "updated_at"])
    kwargs = run.kwargs or {}
    request_config = copy.deepcopy(kwargs.get("config") or {})
    configurable = {
        k: v for k, v in (request_config.get("configurable") or {}).items() if k not in RESERVED_CONFIGURABLE
    }
    request_config["configurable"] = configurable
    config = _merge_config((assistant.config if assistant else {}) or {}, thread.config or {}, request_config)
    context = {**((assistant.context if assistant else {}) or {}), **(kwargs.get("context") or {})}
    return RunClaim(
        run_id=str(run.id),
        thread_id=str(thread.id),
        org_id=str(run.org_id),
        user_id=run.user_id,
        user_email=run.user.email if run.user else "",
        user_role=_role_of(run),
        assistant_id=str(run.assistant_id),
        graph_id=assistant.graph_id if assistant else thread.graph_id,
        attempt=run.attempt,
        fence=run.fence,
        config=config,
        context=context,
        kwargs=kwargs,
        temporary_thread=thread.temporary,
    )


@dataclass
class RunResult:
    """How an attempt ended, as the worker saw it."""

    status: str  # a RunStatus value, or "rollback" (cancelled and to be erased), or "drained"
    result: Any = None  # the /wait body
    error: dict[str, Any] | None = None
    values: Any = None
    interrupts: dict[str, Any] | None = None
    next: list[str] | None = None
    checkpoint_end: dict[str, Any] | None = None


def run_finish(*, claim: RunClaim, outcome: RunResult) -> str | None:
    """Record the end of an attempt. Returns the status written ("" when fenced off: another worker
    owns the run now), and enqueues the thread's next pending run after commit."""
    from atrium.runtime import dispatch

    now = timezone.now()
    with transaction.atomic():
        thread = Thread.unscoped.select_for_update().get(id=claim.thread_id)
        run = Run.unscoped.select_for_update().filter(id=claim.run_id).first()
        if run is None or run.fence != claim.fence or run.status != RunStatus.RUNNING:
            return ""
        status = outcome.status
        if status == "drained":
            run.status = RunStatus.PENDING
            run.lease_owner, run.lease_expires_at = "", None
            run.save(update_fields=["status", "lease_owner", "lease_expires_at", "updated_at"])
            transaction.on_commit(lambda: dispatch.enqueue_run(claim.run_id))
            return status
        if status == "rollback":
            run.delete()
        else:
            run.status = status
            run.result = outcome.result
            run.error = outcome.error
            run.ended_at = now
            run.checkpoint_end = outcome.checkpoint_end
            run.lease_owner, run.lease_expires_at = "", None
            run.save(
                update_fields=[
                    "status",
                    "result",
                    "error",
                    "ended_at",
                    "checkpoint_end",
                    "lease_owner",
                    "lease_expires_at",
                    "updated_at",
                ]
            )
        # For a rollback the worker erased the run's checkpoints first; the outcome holds the head's state.
        thread.values = outcome.values
        thread.next = outcome.next or []
        thread.interrupts = outcome.interrupts or {}
        thread.error = outcome.error if status == RunStatus.ERROR else None
        thread.state_updated_at = now
        pending = (
            Run.unscoped.filter(thread=thread, status=RunStatus.PENDING)
            .order_by("created_at")
            .values_list("id", flat=True)
            .first()
        )
        if pending is not None:
            thread.status = ThreadStatus.BUSY
        elif thread.error:
            thread.status = ThreadStatus.ERROR
        elif thread.next or thread.interrupts:
            thread.status = ThreadStatus.INTERRUPTED
        else:
            thread.status = ThreadStatus.IDLE
        thread.save(
            update_fields=[
                "values",
                "next",
                "interrupts",
                "error",
                "status",
                "state_updated_at",
                "updated_at",
            ]
        )
        if pending is not None:
            next_id = str(pending)
            transaction.on_commit(lambda: dispatch.enqueue_run(next_id))
    return status


def temporary_thread_delete(*, thread_id: str) -> None:
    """Stateless runs with on_completion=delete leave nothing behind."""
    with transaction.atomic():
        thread = Thread.unscoped.select_for_update().filter(id=thread_id, temporary=True).first()
        if thread is None or Run.unscoped.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES).exists():
            return
        checkpoints.delete_thread(thread_id=thread_id)
        thread.delete()
