"""The worker's writes: claim a run, finish it, hand it back. Called by tasks only."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from atrium.assistants.policy import Approvals
from atrium.core.metrics import run_latency
from atrium.core.run_limits import RunLimits, config_known, run_limits_resolve
from atrium.credentials.selectors import workspace_secrets_unseal
from atrium.runtime import checkpoints
from atrium.runtime.db import prepared_cursor
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run, RunStatus, Thread, ThreadStatus
from atrium.runtime.services.sandboxes import THREAD_GENERATION

# The configurable key under which a run's graph gets its org's workspace secrets (name -> value), filled
# by the executor at run time. LangGraph never copies `__` keys into checkpoint metadata.
SECRETS_CONFIGURABLE = "__atrium_secrets"

logger = logging.getLogger(__name__)

# Client config keys the server owns: never taken from a request (§3 "cannot spoof").
RESERVED_CONFIGURABLE = (
    SECRETS_CONFIGURABLE,
    "__atrium_credentials",
    THREAD_GENERATION,
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


class RunsAtCapacityError(Exception):
    """The run's org already runs as many runs as its cap allows: the run stays pending and the task
    offers it again shortly (ATRIUM_CAPACITY_RETRY_SECONDS)."""


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
    # Set when the run was cancelled while no worker held it (its worker died): end it, run nothing.
    cancel_action: str = ""
    # The org's workspace secrets in plain text (name -> value), read with the claim: for the graph
    # factory and tools, never for logs (not in the repr).
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    # What the org's admins approved for the assistant; its settings are checked against it again here.
    approvals: Approvals = field(default_factory=Approvals)
    # The assistant's own config (its run limits cap what the thread and request ask for), and the
    # org's run caps, read with the claim (None: the operator's).
    assistant_config: dict[str, Any] = field(default_factory=dict)
    org_run_max_seconds: int | None = None
    org_run_max_steps: int | None = None


def _layer(config: Any, *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    layer = config_known(copy.deepcopy(config) if isinstance(config, dict) else {})
    if isinstance(layer.get("configurable"), dict):
        layer["configurable"] = {
            k: v
            for k, v in layer["configurable"].items()
            if k in keep or (k not in RESERVED_CONFIGURABLE and not k.startswith("__"))
        }
    return layer


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


# The claim and finish are the worker's hot path: each is one call of a Postgres function, in
# autocommit (migration 0007 holds them, ADR 0016). A claim locks the thread's row, then the org's cap
# lock (when the org has a cap), then claims in a statement of its own, so it sees every claim committed
# before the locks were granted. Claimable: pending, due, and nothing running or queued ahead on the
# thread (FIFO); not when the org is at its cap. Only a pending run is turned away for the cap, so a
# redelivered message of a running or finished run never loops. It returns what the worker needs of the
# assistant and the user, and the org's sealed workspace secrets.
_CLAIM = "SELECT * FROM atrium_run_claim(%(run)s, %(worker)s, %(lease)s, %(default_cap)s)"


# The heartbeat: extend the lease only while the fence is still ours. No row back means the run was
# reclaimed (or cancelled, or finished by someone else): the worker must stop executing it. The row
# carries a cancel requested meanwhile, in case its pub/sub message was lost (Redis restarted).
# Whether an earlier attempt of the run got as far as writing a checkpoint (then it resumes from it).
_HAS_CHECKPOINT = """
SELECT 1 FROM checkpoints
WHERE thread_id = %(thread)s AND checkpoint_ns = '' AND metadata->>'run_id' = %(run)s LIMIT 1
"""


_RENEW_LEASES = """
UPDATE runtime_run r SET lease_expires_at = now() + make_interval(secs => %(lease)s)
FROM unnest(%(runs)s::uuid[], %(fences)s::integer[]) AS held(id, fence)
WHERE r.id = held.id AND r.fence = held.fence AND r.status = 'running'
RETURNING r.id::text, r.cancel_action
"""


async def runs_lease_renew(conn: Any, *, fences: dict[str, int]) -> dict[str, str]:
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


async def run_has_checkpoint(conn: Any, *, run_id: str, thread_id: str) -> bool:
    """Did an earlier attempt of this run commit a checkpoint on its thread? (async pool)"""
    async with conn.cursor() as cur:
        await cur.execute(_HAS_CHECKPOINT, {"run": run_id, "thread": thread_id})
        return bool(await cur.fetchone())


def _claim_params(run_id: str, worker_id: str) -> dict[str, Any]:
    return {
        "run": run_id,
        "worker": worker_id,
        "lease": float(settings.ATRIUM_RUN_LEASE_SECONDS),
        "default_cap": max(settings.ATRIUM_MAX_CONCURRENT_RUNS, 0),
    }


def run_claim(*, run_id: str, worker_id: str) -> RunClaim | None:
    """Take a pending run for execution, or None if it is not this worker's to run now.

    None covers: already claimed (a redelivered message), cancelled, not yet due, or another run of
    the same thread is running or queued ahead (it will enqueue this one when it finishes).
    RunsAtCapacityError: the org is at its concurrent-run cap; the run stays pending.
    """
    # Outside a transaction (the task's case) the claim commits in its one round trip.
    with prepared_cursor() as cur:
        cur.execute(_CLAIM, _claim_params(run_id, worker_id))
        return _claimed(run_id, cur.fetchone())


async def run_claim_async(conn: Any, *, run_id: str, worker_id: str) -> RunClaim | None:
    """`run_claim` on a connection of the worker's async pool (autocommit), from its event loop."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_CLAIM, _claim_params(run_id, worker_id))
        return _claimed(run_id, await cur.fetchone())


def _claimed(run_id: str, row: Any) -> RunClaim | None:
    if row is None:
        return None  # no such run
    (at_capacity, thread_id, thread_config, temporary, thread_graph, org_id, user_id, assistant_id,
     attempt, fence, kwargs, cancel_action, graph_id, assistant_config, assistant_context, email, role,
     secret_names, secret_values, egress_hosts, provider_base_urls, granted, org_run_max_seconds,
     org_run_max_steps) = row  # fmt: skip
    if at_capacity:
        raise RunsAtCapacityError(f"org {org_id} is at its concurrent-run cap; run {run_id} waits")
    if attempt is None:
        return None  # not this worker's to run now
    kwargs = _json(kwargs) or {}
    assistant_config = _json(assistant_config) or {}
    # Each layer as a config may carry it: known top-level keys only (LangGraph would copy any other
    # into configurable over the server's ids), and none of the server's own configurable keys.
    config = _merge_config(
        _layer(assistant_config),
        _layer(_json(thread_config), keep=(THREAD_GENERATION,)),  # the server wrote the thread's token
        _layer(kwargs.get("config")),
    )
    context = {**(_json(assistant_context) or {}), **(kwargs.get("context") or {})}
    return RunClaim(
        run_id=str(run_id),
        thread_id=str(thread_id),
        org_id=str(org_id),
        user_id=user_id,
        user_email=email or "",
        user_role=role or "",
        assistant_id=str(assistant_id),
        graph_id=graph_id or thread_graph,
        attempt=attempt,
        fence=fence,
        config=config,
        context=context,
        kwargs=kwargs,
        temporary_thread=temporary,
        cancel_action=cancel_action or "",
        secrets=workspace_secrets_unseal(
            org_id=str(org_id), sealed=zip(secret_names or (), secret_values or (), strict=True)
        ),
        approvals=Approvals(
            egress_hosts=tuple(_json(egress_hosts) or ()),
            provider_base_urls={k: tuple(v or ()) for k, v in (_json(provider_base_urls) or {}).items()},
            secrets=frozenset(_json(granted) or ()),
        ),
        assistant_config=assistant_config,
        org_run_max_seconds=org_run_max_seconds,
        org_run_max_steps=org_run_max_steps,
    )


def run_limits_for(claim: RunClaim, *, config: dict[str, Any], graph_steps: int | None) -> RunLimits:
    """The limits this attempt executes with: the lowest of what the run asks for (or the graph's own
    `recursion_limit`) and the assistant's, the org's and the operator's caps."""
    return run_limits_resolve(
        assistant_config=claim.assistant_config,
        requested_config=config,
        graph_steps=graph_steps,
        org_steps=claim.org_run_max_steps,
        org_seconds=claim.org_run_max_seconds,
        operator_steps=max(settings.ATRIUM_RUN_MAX_STEPS, 0),
        operator_seconds=max(settings.ATRIUM_RUN_MAX_SECONDS, 0),
    )


def _json(value: Any) -> Any:
    """jsonb columns come back decoded from psycopg; tolerate text too."""
    return json.loads(value) if isinstance(value, str | bytes) else value


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
    call_counts: dict[str, Any] | None = None


def call_counts_of(values: Any) -> dict[str, Any] | None:
    """The run's guardrail counters, as LangChain's call-limit middleware keeps them in the graph state
    (`run_model_call_count`, `run_tool_call_count` per tool, `__all__` for every tool); only what the
    graph counts (None: no such middleware). A tool call the limit blocked is counted, as the limit
    counts it."""
    if not isinstance(values, dict):
        return None
    model = values.get("run_model_call_count")
    tools = values.get("run_tool_call_count")
    if model is None and tools is None:
        return None
    counts: dict[str, Any] = {}
    if model is not None:
        counts["model_calls"] = int(model)
    if isinstance(tools, dict):
        by_tool = {str(k): int(v) for k, v in tools.items()}
        counts["tool_calls"] = by_tool.pop("__all__", sum(by_tool.values()))
        if by_tool:
            counts["tool_calls_by_tool"] = by_tool
    return counts


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
FINISH_TRIES = 15
_FINISHED_HERE = """
SELECT status FROM runtime_run WHERE id = %(run)s AND fence = %(fence)s AND status <> 'running'
"""


def run_finish(*, claim: RunClaim, outcome: RunResult, tried: bool = False) -> str | None:
    """Record the end of an attempt. Returns the status written ("" when fenced off: another worker
    owns the run now), and enqueues the thread's next pending run after commit. Retried while
    Postgres is unreachable. `tried`: an earlier try (`run_finish_async`) failed with its connection,
    so it may have committed."""
    delay = 0.2
    for attempt in range(FINISH_TRIES):
        try:
            status = _run_finish_once(claim=claim, outcome=outcome)
            if status == "" and (attempt > 0 or tried):
                # An earlier try may have committed before its connection died: the run still carries
                # this attempt's fence (only a takeover changes it), so the status is ours.
                with prepared_cursor() as cur:
                    cur.execute(_FINISHED_HERE, {"run": claim.run_id, "fence": claim.fence})
                    row = cur.fetchone()
                if row is not None:
                    return "drained" if outcome.status == "drained" else str(row[0])
            return status
        except (OperationalError, InterfaceError):
            connection.close()
            if attempt == FINISH_TRIES - 1:
                raise
            logger.warning("finishing run %s: Postgres unreachable; retrying in %.1f s", claim.run_id, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    return ""


def finishes_in_one_statement(*, claim: RunClaim, outcome: RunResult) -> bool:
    """Whether the attempt's end is the finish function alone: not a hand-back (`drained`), and no
    webhook delivery to record with it in one transaction."""
    return outcome.status != "drained" and (outcome.status == "rollback" or not claim.kwargs.get("webhook"))


async def run_finish_async(conn: Any, *, claim: RunClaim, outcome: RunResult) -> str:
    """`run_finish` for an attempt that `finishes_in_one_statement`, on a connection of the worker's
    async pool (autocommit), from its event loop. One try: a connection error propagates, and the
    caller finishes with `run_finish(tried=True)`."""
    from atrium.runtime import dispatch

    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_FINISH, _finish_params(claim, outcome))
        finished = await cur.fetchone()
    if finished is None:
        return ""  # fenced off
    latency, next_id = finished
    if latency is not None:
        run_latency.observe(float(latency), outcome.status)
    if next_id is not None:
        try:
            await asyncio.to_thread(dispatch.enqueue_run, str(next_id))
        except Exception:  # as `on_commit(robust=True)` in `run_finish`: the reconciler sends it later
            logger.exception("could not enqueue run %s, next on thread %s", next_id, claim.thread_id)
    return outcome.status


def _finish_params(claim: RunClaim, outcome: RunResult) -> dict[str, Any]:
    status = outcome.status
    error = outcome.error if status == RunStatus.ERROR else None
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
        "erase": status == "rollback",
        "status": status,
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


def _run_finish_once(*, claim: RunClaim, outcome: RunResult) -> str | None:
    from atrium.runtime import dispatch

    status = outcome.status
    ids = {"run": claim.run_id, "fence": claim.fence, "thread": claim.thread_id}
    cursor: Any
    if status == "drained":
        with transaction.atomic(), prepared_cursor() as cursor:
            cursor.execute("SELECT id FROM runtime_thread WHERE id = %(thread)s FOR UPDATE", ids)
            cursor.execute(
                "UPDATE runtime_run SET status = 'pending', lease_owner = '', lease_expires_at = NULL, "
                "updated_at = now() WHERE id = %(run)s AND fence = %(fence)s AND status = 'running' "
                "RETURNING id",
                ids,
            )
            if cursor.fetchone() is None:
                return ""
            transaction.on_commit(lambda: dispatch.enqueue_run(claim.run_id), robust=True)
        return status
    params = _finish_params(claim, outcome)
    webhook = not finishes_in_one_statement(claim=claim, outcome=outcome)
    # Without a webhook delivery to record with it, the finish commits in its one round trip; the
    # `on_commit` callbacks below then run at once.
    with transaction.atomic() if webhook else contextlib.nullcontext(), prepared_cursor() as cursor:
        cursor.execute(_FINISH, params)
        finished = cursor.fetchone()
        if finished is None:
            return ""  # fenced off
        latency, next_id = finished
        if latency is not None:
            # The run's latency (creation to end) for /metrics, once the end is committed.
            transaction.on_commit(partial(run_latency.observe, float(latency), status))
        if webhook:
            from atrium.runtime.services.webhooks import webhook_enqueue

            webhook_enqueue(run_id=claim.run_id, values=outcome.values)
        if next_id is not None:
            transaction.on_commit(lambda: dispatch.enqueue_run(str(next_id)), robust=True)
    return status


def temporary_thread_delete(*, thread_id: str) -> None:
    """Stateless runs with on_completion=delete leave nothing behind."""
    with transaction.atomic():
        thread = Thread.unscoped.select_for_update().filter(id=thread_id, temporary=True).first()
        if thread is None or Run.unscoped.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES).exists():
            return
        checkpoints.delete_thread(thread_id=thread_id)
        thread.delete()
