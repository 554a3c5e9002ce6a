"""Creating a run (`lifecycle.create`, its only caller outside tests), with the multitask strategies,
and the thread-locked helpers that `lifecycle.create` and `lifecycle.cancel` share. Every other
transition of a run is in `lifecycle.py`, and callers go through that module.

Concurrency rules (no two runs ever execute on one thread at once):
- Every write that depends on "what runs on this thread" first locks the thread row (`SELECT ... FOR
  UPDATE`), always before any run row, so the lock order is fixed.
- A worker may claim a run only if it is the thread's oldest pending run and nothing else runs there.
  A claim that loses returns None; whoever finishes the running run enqueues the next pending one.
- Broker messages are sent only after the transaction commits (`transaction.on_commit`).
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from atrium.assistants.models import Assistant
from atrium.assistants.selectors import assistant_get, assistant_queryset
from atrium.assistants.services import assistant_id_resolve
from atrium.core.errors import AtriumError, ConflictError, NotFoundError, ValidationFailedError
from atrium.core.run_limits import config_error
from atrium.core.tenancy import Permission, Scope, current_scope
from atrium.orgs.limits import run_create_allow
from atrium.runtime.auth_user import handler_user_fields
from atrium.runtime.db import prepared_cursor
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run, RunStatus, Thread, ThreadStatus
from atrium.runtime.selectors.threads import as_uuid, thread_queryset
from atrium.runtime.services.execution import RESERVED_CONFIGURABLE
from atrium.runtime.services.run_overrides import run_overrides_check
from atrium.runtime.services.sandboxes import thread_config_new_generation
from atrium.runtime.services.webhooks import webhook_enqueue, webhook_validate
from atrium.usage.services import usage_run_allow

MULTITASK_STRATEGIES = ("reject", "enqueue", "interrupt", "rollback")
# What a cancel may ask of a run; the worker knows no other, so a run told anything else never ends.
CANCEL_ACTIONS = ("interrupt", "rollback")
RESERVED_METADATA = ("thread_id", "assistant_id", "run_id", "cron_id")


@dataclass(kw_only=True)
class RunCreate:
    """A validated RunCreate body (§3); the API layer builds it from the request schema."""

    assistant_id: str
    input: Any = None
    command: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    stream_mode: list[str] = field(default_factory=lambda: ["values"])
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    on_disconnect: str = "continue"
    multitask_strategy: str = "enqueue"
    if_not_exists: str = "reject"
    interrupt_before: Any = None
    interrupt_after: Any = None
    checkpoint: dict[str, Any] | None = None
    webhook: str | None = None
    durability: str | None = None
    after_seconds: float = 0
    on_completion: str = "delete"
    headers: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    protocol: str = "v1"
    """Which streaming protocol the creator speaks: v2 runs get the full thread-event translation."""
    cron_id: str | None = None
    """Set by the scheduler only: the run's metadata then carries `cron_id` (reserved for clients)."""


def _kwargs_of(payload: RunCreate) -> dict[str, Any]:
    return {
        "input": payload.input,
        "command": payload.command,
        "config": payload.config,
        "context": payload.context,
        "stream_mode": payload.stream_mode,
        "stream_subgraphs": payload.stream_subgraphs,
        "stream_resumable": payload.stream_resumable,
        "on_disconnect": payload.on_disconnect,
        "interrupt_before": payload.interrupt_before,
        "interrupt_after": payload.interrupt_after,
        "checkpoint": payload.checkpoint,
        "webhook": payload.webhook,
        "durability": payload.durability,
        "on_completion": payload.on_completion,
        "headers": payload.headers,
        "protocol": payload.protocol,
        # The caller as the deployment's `@auth.authenticate` returned it (None otherwise): the run's
        # `runtime.server_info.user`. Server-held: never read from the request body.
        "auth_user": handler_user_fields(),
    }


def _validate(payload: RunCreate, *, stateless: bool) -> None:
    problem = config_error(payload.config)
    if problem is not None:
        raise ValidationFailedError(problem, code="invalid_config")
    configurable = (payload.config or {}).get("configurable") or {}
    if configurable and payload.context:
        raise AtriumError(
            "Cannot specify both configurable and context. Prefer setting context alone.",
            code="configurable_and_context",
        )
    if stateless and payload.command and "resume" in payload.command:
        raise AtriumError("You must provide a thread_id when resuming.", code="resume_without_thread")


def locked_thread(thread_id: uuid.UUID) -> Thread | None:
    return thread_queryset().select_for_update().filter(id=thread_id).first()


def _new_thread(
    *, thread_id: uuid.UUID | None, assistant: Assistant, metadata: dict[str, Any], temporary: bool
) -> Thread:
    scope = current_scope()
    try:
        with transaction.atomic():
            return Thread.objects.create(
                id=thread_id or uuid.uuid4(),
                org_id=scope.org,
                owner_id=scope.user_id,
                metadata={**metadata, "graph_id": assistant.graph_id, "assistant_id": str(assistant.id)},
                graph_id=assistant.graph_id,
                assistant_id=assistant.id,
                temporary=temporary,
                config=thread_config_new_generation(),
            )
    except IntegrityError:
        # The id is taken by a thread the caller may not see: it does not exist for them.
        raise NotFoundError("Thread or assistant not found.") from None


# Creating a run is the API's hot path: one statement reads the assistant, updates the thread (taking
# its row lock, so the lock order stays thread first) and inserts the run, instead of an assistant
# read, a locking thread read and two ORM writes. The run's metadata is the assistant's, then the
# thread's, then the request's, then the ids, then a scheduler's `cron_id` (later wins).
_INSERT_RUN = """
WITH a AS (
    SELECT id, graph_id, metadata, jsonb_build_object('graph_id', graph_id, 'assistant_id', id::text) AS ids
    FROM assistants_assistant WHERE id IN ({assistant_visible})
), t AS (
    UPDATE runtime_thread th SET status = %s, updated_at = clock_timestamp(),
        graph_id = CASE WHEN th.graph_id = '' THEN a.graph_id ELSE th.graph_id END,
        assistant_id = CASE WHEN th.graph_id = '' THEN a.id ELSE th.assistant_id END,
        metadata = CASE WHEN th.graph_id = '' THEN th.metadata || a.ids ELSE th.metadata END
    FROM a WHERE th.id = %s AND th.id IN ({thread_visible})
    RETURNING th.id, th.metadata
)
INSERT INTO runtime_run (thread_id, assistant_id, metadata, created_at, updated_at, {columns})
SELECT t.id, a.id, a.metadata || t.metadata || %s || a.ids || %s, clock_timestamp(), clock_timestamp(),
    {values}
FROM t, a
RETURNING metadata, created_at, updated_at
"""
_INSERT_FIXED = ("thread", "assistant_id", "metadata", "created_at", "updated_at")


# Stands for the id in a compiled "visible ids" subquery (never a real row's id).
_ID_PLACEHOLDER = uuid.uuid4()


def _visible_id_sql(kind: str, object_id: uuid.UUID) -> tuple[str, list[Any]]:
    """SQL (and params) selecting `object_id` if the current caller may see that assistant or thread,
    compiled from the selectors, which define what a caller may see."""
    queryset = assistant_queryset() if kind == "assistant" else thread_queryset()
    sql, params = queryset.filter(id=object_id).values("id").query.sql_with_params()
    return sql, list(params)


@functools.lru_cache(maxsize=4096)
def _visible_id_template(kind: str, scope: Scope) -> tuple[str, tuple[Any, ...], int]:
    # The selector's SQL depends only on the scope (org, user, role), so it is compiled once per scope
    # and kind, with a placeholder for the id: compiling it was a fifth of the request.
    sql, params = _visible_id_sql(kind, _ID_PLACEHOLDER)
    return sql, tuple(params), params.index(_ID_PLACEHOLDER)


def _visible_id(kind: str, object_id: uuid.UUID) -> tuple[str, list[Any]]:
    scope = current_scope()
    if scope.narrowing is not None:  # an authorization handler's filter (a dict) cannot key the cache
        return _visible_id_sql(kind, object_id)
    sql, template, at = _visible_id_template(kind, scope)
    params = list(template)
    params[at] = object_id
    return sql, params


def _insert_run(
    thread_id: uuid.UUID, assistant_id: uuid.UUID, payload: RunCreate, metadata: dict[str, Any]
) -> Run | None:
    """Insert a pending run on a thread the caller can see and mark the thread busy; None if the
    thread or the assistant is not there for the caller. The thread row stays locked until commit."""
    scope = current_scope()
    run = Run(
        org_id=scope.org,
        thread_id=thread_id,
        assistant_id=assistant_id,
        user_id=scope.user_id,
        kwargs=_kwargs_of(payload),
        multitask_strategy=payload.multitask_strategy,
        idempotency_key=payload.idempotency_key,
        not_before=timezone.now() + timedelta(seconds=payload.after_seconds)
        if payload.after_seconds
        else None,
    )
    fields = [f for f in Run._meta.concrete_fields if f.name not in _INSERT_FIXED]
    # What the caller may see comes from the selectors (org, ownership, authorization filters).
    assistant_visible, assistant_params = _visible_id("assistant", assistant_id)
    thread_visible, thread_params = _visible_id("thread", thread_id)
    sql = _INSERT_RUN.format(
        assistant_visible=assistant_visible,
        thread_visible=thread_visible,
        columns=", ".join(connection.ops.quote_name(str(f.column)) for f in fields),
        values=", ".join(["%s"] * len(fields)),
    )
    params = [
        *assistant_params,
        ThreadStatus.BUSY,
        thread_id,
        *thread_params,
        Jsonb(metadata),
        Jsonb({"cron_id": payload.cron_id} if payload.cron_id else {}),
        *(f.get_db_prep_save(getattr(run, f.attname), connection) for f in fields),
    ]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    metadata, run.created_at, run.updated_at = row
    run.metadata = json.loads(metadata) if isinstance(metadata, str | bytes) else metadata
    run._state.adding = False
    run._state.db = connection.alias
    return run


def run_create(*, thread_id: uuid.UUID | str | None, payload: RunCreate, stateless: bool = False) -> Run:
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    _validate(payload, stateless=stateless)
    run_create_allow(scope)
    # No new run while a budget of the org or the member is spent (a resume may go on: it is checked again)
    usage_run_allow(scope, command=payload.command)
    assistant_id = assistant_id_resolve(assistant_id=payload.assistant_id)
    run_overrides_check(
        scope=scope,
        assistant_id=assistant_id,
        context=payload.context,
        config=payload.config,
        command=payload.command,
        webhook=payload.webhook,
        reserved=RESERVED_CONFIGURABLE,
    )
    metadata = {k: v for k, v in (payload.metadata or {}).items() if k not in RESERVED_METADATA}
    payload.webhook = webhook_validate(payload.webhook, org_id=scope.org)
    if not stateless and payload.multitask_strategy == "enqueue" and not payload.idempotency_key:
        # The common case, one statement in its own transaction: `enqueue` queues behind whatever is
        # active, so nothing needs to be read first. None: the thread is not there (for this caller),
        # and the general path below says what is missing.
        run = _insert_run(as_uuid(thread_id or "", "thread"), assistant_id, payload, metadata)
        if run is not None:
            after_commit_send(run, [], delay=payload.after_seconds)  # committed: sends now
            return run
    try:
        return _run_create_locked(
            thread_id=thread_id,
            assistant_id=assistant_id,
            payload=payload,
            stateless=stateless,
            metadata=metadata,
        )
    except IntegrityError:
        # Two requests raced on one idempotency key: the loser's insert waited for the winner's
        # commit and hit the key's unique constraint. It answers with the winner's run.
        existing = _idempotent_run(payload.idempotency_key)
        if existing is None:
            raise
        return existing


def _idempotent_run(key: str | None) -> Run | None:
    """The caller's own run made with this idempotency key. A key is the caller's (org and user,
    the constraint `run_unique_caller_idempotency_key`): another member's key finds nothing of theirs."""
    user_id = current_scope().user_id
    if not key:
        return None
    runs = Run.objects.filter(idempotency_key=key)
    # A caller without a user (a system scope) shares keys with no one but itself.
    runs = runs.filter(user__isnull=True) if user_id is None else runs.filter(user_id=user_id)
    return runs.first()


def _run_create_locked(
    *,
    thread_id: uuid.UUID | str | None,
    assistant_id: uuid.UUID,
    payload: RunCreate,
    stateless: bool,
    metadata: dict[str, Any],
) -> Run:
    """The general path of `run_create`: one transaction that locks the thread first."""
    controls: list[tuple[str, str]] = []
    with transaction.atomic():
        existing = _idempotent_run(payload.idempotency_key)
        if existing is not None:
            return existing
        run = None
        if not stateless and payload.multitask_strategy == "enqueue" and payload.idempotency_key:
            run = _insert_run(as_uuid(thread_id or "", "thread"), assistant_id, payload, metadata)
        if run is None:  # the general path, which also says what is missing
            assistant = assistant_get(assistant_id=assistant_id)
            if stateless:
                thread = _new_thread(
                    thread_id=None,
                    assistant=assistant,
                    metadata=metadata,
                    temporary=payload.on_completion == "delete",
                )
            else:
                tid = as_uuid(thread_id or "", "thread")
                thread_or_none = locked_thread(tid)
                if thread_or_none is None:
                    if payload.if_not_exists != "create":
                        raise NotFoundError(f"Thread with ID {tid} not found")
                    thread = _new_thread(
                        thread_id=tid, assistant=assistant, metadata=metadata, temporary=False
                    )
                    thread = Thread.objects.select_for_update().get(id=thread.id)
                else:
                    thread = thread_or_none
            active = list(
                Run.objects.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES).order_by("created_at")
            )
            if active and payload.multitask_strategy == "reject":
                raise ConflictError(
                    "Thread is already running a task. Wait for it to finish or choose a different "
                    "multitask strategy.",
                    code="thread_busy",
                )
            if active and payload.multitask_strategy in ("interrupt", "rollback"):
                controls = cancel_locked(thread, active, action=payload.multitask_strategy)
            run = _insert_run(thread.id, assistant.id, payload, metadata)
            if run is None:  # the thread is locked by this transaction: it cannot have gone
                raise NotFoundError(f"Thread with ID {thread.id} not found")
        after_commit_send(run, controls, delay=payload.after_seconds)
    return run


def cancel_locked(thread: Thread, runs: list[Run], *, action: str) -> list[tuple[str, str]]:
    """Cancel active runs of a locked thread. Pending runs end here; running ones are told to stop."""
    controls: list[tuple[str, str]] = []
    now = timezone.now()
    for run in runs:
        if run.status == RunStatus.PENDING:
            if action == "rollback":
                run.delete()
            else:
                Run.objects.filter(id=run.id).update(
                    status=RunStatus.INTERRUPTED, ended_at=now, updated_at=now
                )
                if (run.kwargs or {}).get("webhook"):
                    webhook_enqueue(run_id=run.id, values=thread.values)
        else:
            Run.objects.filter(id=run.id).update(cancel_action=action, updated_at=now)
            controls.append((str(run.id), action))
    return controls


def after_commit_send(run: Run | None, controls: list[tuple[str, str]], *, delay: float = 0) -> None:
    from atrium.runtime import dispatch

    def send() -> None:
        for run_id, action in controls:
            dispatch.send_control(run_id, action)
        if run is not None:
            dispatch.announce_run(str(run.id), str(run.thread_id))
            dispatch.enqueue_run(str(run.id), delay=delay)

    # robust: once the run is committed the request must not fail (clients retry 5xx and would create a
    # duplicate run); a broker outage leaves the run pending for the reconciler to enqueue again.
    transaction.on_commit(send, robust=True)


def settle_thread(thread: Thread) -> None:
    """Recompute a locked thread's status from its runs and cached state (§2.7)."""
    if Run.objects.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES).exists():
        status = ThreadStatus.BUSY
    elif thread.error:
        status = ThreadStatus.ERROR
    elif thread.interrupts or thread.next:
        status = ThreadStatus.INTERRUPTED
    else:
        status = ThreadStatus.IDLE
    if thread.status != status:
        thread.status = status
        thread.save(update_fields=["status", "updated_at"])
