"""Wire shapes of threads and runs (agent-protocol.md §1.2, §1.4): what the Agent API returns and what a
run's webhook carries."""

from __future__ import annotations

from typing import Any

from atrium.runtime.models import Run, Thread
from atrium.runtime.services.sandboxes import thread_config_public


def thread_out(thread: Thread, *, include_ttl: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "thread_id": str(thread.id),
        "created_at": thread.created_at.isoformat(),
        "updated_at": thread.updated_at.isoformat(),
        "state_updated_at": (thread.state_updated_at or thread.updated_at).isoformat(),
        "metadata": thread.metadata,
        "status": thread.status,
        "config": thread_config_public(thread.config),
        "values": thread.values,
        "interrupts": thread.interrupts or {},
        "error": thread.error,
    }
    if include_ttl and thread.ttl_minutes is not None:
        data["ttl"] = {
            "strategy": thread.ttl_strategy,
            "ttl_minutes": thread.ttl_minutes,
            "expires_at": thread.expires_at.isoformat() if thread.expires_at else None,
        }
    return data


def run_out(run: Run) -> dict[str, Any]:
    kwargs = dict(run.kwargs or {})
    kwargs.pop("headers", None)
    kwargs.pop("auth_user", None)  # what the deployment's auth handler said of the caller: server-held
    return {
        "run_id": str(run.id),
        "thread_id": str(run.thread_id),
        "assistant_id": str(run.assistant_id),
        "created_at": run.created_at.isoformat(),
        "updated_at": run.updated_at.isoformat(),
        "status": run.status,
        "metadata": run.metadata,
        "kwargs": kwargs,
        "multitask_strategy": run.multitask_strategy,
        "attempt": run.attempt,
        # Guardrail counters of the run (model and tool calls), when its graph keeps them.
        "call_counts": run.call_counts,
    }


def select_fields(item: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k in select} if select else item
