"""What an attempt of a run carries (`RunClaim`), built from the claim function's row, and the helpers
around it. The transitions themselves (claim, renew, finish, hand back) are in `lifecycle.py`."""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from atrium.assistants.policy import Approvals
from atrium.core.run_limits import RunLimits, config_known, run_limits_resolve
from atrium.credentials.selectors import workspace_secrets_unseal
from atrium.runtime import checkpoints
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run, Thread
from atrium.runtime.services.sandboxes import THREAD_GENERATION
from atrium.runtime.services.uploads import thread_uploads_on_disk

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


# Whether an earlier attempt of the run got as far as writing a checkpoint (then it resumes from it).
_HAS_CHECKPOINT = """
SELECT 1 FROM checkpoints
WHERE thread_id = %(thread)s AND checkpoint_ns = '' AND metadata->>'run_id' = %(run)s LIMIT 1
"""


async def run_has_checkpoint(conn: Any, *, run_id: str, thread_id: str) -> bool:
    """Did an earlier attempt of this run commit a checkpoint on its thread? (async pool)"""
    async with conn.cursor() as cur:
        await cur.execute(_HAS_CHECKPOINT, {"run": run_id, "thread": thread_id})
        return bool(await cur.fetchone())


def claim_from_row(run_id: str, row: Any) -> RunClaim | None:
    """The claim function's row as a `RunClaim` (None: not this worker's to run now)."""
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


def temporary_thread_delete(*, thread_id: str) -> None:
    """Stateless runs with on_completion=delete leave nothing behind."""
    with transaction.atomic():
        thread = Thread.unscoped.select_for_update().filter(id=thread_id, temporary=True).first()
        if thread is None or Run.unscoped.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES).exists():
            return
        checkpoints.delete_thread(thread_id=thread_id, uploads_prefix=thread_uploads_on_disk(thread))
        thread.delete()
