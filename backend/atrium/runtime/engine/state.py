"""ThreadState and history shaping (§1.3): what ``GET /threads/{id}/state`` and ``/history`` return."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Interrupt, PregelTask, StateSnapshot

CheckpointRef = dict[str, Any]
"""``{checkpoint_id, thread_id, checkpoint_ns, checkpoint_map?}``: a checkpoint as clients address it."""


def checkpoint_ref(config: RunnableConfig | Mapping[str, Any] | None) -> CheckpointRef | None:
    """The checkpoint a config points at, or ``None`` when it points at none (e.g. the root's parent)."""
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("thread_id") or not configurable.get("checkpoint_id"):
        return None
    ref: CheckpointRef = {
        "checkpoint_id": configurable["checkpoint_id"],
        "thread_id": configurable["thread_id"],
    }
    if "checkpoint_ns" in configurable:
        ref["checkpoint_ns"] = configurable["checkpoint_ns"] or ""
    if "checkpoint_map" in configurable:
        ref["checkpoint_map"] = configurable["checkpoint_map"]
    return ref


def interrupt_dict(interrupt: Interrupt | Mapping[str, Any]) -> dict[str, Any]:
    """``{id, value[, response_schema]}``; the schema key only when the graph gave one."""
    if isinstance(interrupt, Mapping):
        interrupt = Interrupt(
            value=interrupt.get("value"), id=interrupt["id"], response_schema=interrupt.get("response_schema")
        )
    shaped: dict[str, Any] = {"id": interrupt.id, "value": interrupt.value}
    if interrupt.response_schema is not None:
        shaped["response_schema"] = interrupt.response_schema
    return shaped


def _task_error(error: Any) -> str | None:
    # LangGraph reports a failed task's error as the repr of the exception; keep that string form.
    if error is None or isinstance(error, str):
        return error
    return repr(error)


def _task_dict(task: PregelTask) -> dict[str, Any]:
    nested = task.state
    return {
        "id": task.id,
        "name": task.name,
        "path": task.path,
        "error": _task_error(task.error),
        "interrupts": [interrupt_dict(i) for i in task.interrupts],
        # Without subgraphs=True a subgraph task only carries the config of its checkpoint.
        "checkpoint": nested["configurable"]
        if nested is not None and not isinstance(nested, StateSnapshot)
        else None,
        "state": thread_state(nested) if isinstance(nested, StateSnapshot) else None,
        "result": task.result,
    }


def thread_state(snapshot: StateSnapshot) -> dict[str, Any]:
    """A ``StateSnapshot`` as the ThreadState JSON object, legacy ``checkpoint_id`` keys included."""
    metadata: Mapping[str, Any] | None = snapshot.metadata
    if metadata is not None and metadata.get("checkpoint_ns") == "":
        metadata = {k: v for k, v in metadata.items() if k != "checkpoint_ns"}
    checkpoint = checkpoint_ref(snapshot.config)
    parent = checkpoint_ref(snapshot.parent_config)
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "tasks": [_task_dict(t) for t in snapshot.tasks],
        "metadata": metadata,
        "created_at": snapshot.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": [interrupt_dict(i) for i in snapshot.interrupts],
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def empty_thread_state() -> dict[str, Any]:
    """The state of a thread that has no checkpoint yet (``useStream`` reads ``checkpoint: null``)."""
    return {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": None,
        "created_at": None,
        "checkpoint": None,
        "parent_checkpoint": None,
        "interrupts": [],
        "checkpoint_id": None,
        "parent_checkpoint_id": None,
    }


def checkpoint_config(
    thread_id: str, checkpoint: str | Mapping[str, Any] | None, *, checkpoint_ns: str = ""
) -> RunnableConfig | None:
    """A LangGraph config for a checkpoint given in any form clients send.

    Accepts a bare checkpoint id, a checkpoint object (``{checkpoint_id, checkpoint_ns?,
    checkpoint_map?}``), or a ``{"configurable": {...}}`` config; used for history ``before`` and for
    state-at-checkpoint reads. The thread id always comes from the path, never from the body, so a
    client cannot point a read at another thread. Returns ``None`` for ``None`` or an empty object.
    """
    if checkpoint is None:
        return None
    if isinstance(checkpoint, str):
        fields: Mapping[str, Any] = {"checkpoint_id": checkpoint}
    elif isinstance(checkpoint.get("configurable"), Mapping):
        fields = checkpoint["configurable"]
    else:
        fields = checkpoint
    if not fields.get("checkpoint_id") and "checkpoint_ns" not in fields:
        return None
    configurable: dict[str, Any] = {
        "thread_id": thread_id,
        "checkpoint_ns": fields.get("checkpoint_ns") or checkpoint_ns,
    }
    if fields.get("checkpoint_id"):
        configurable["checkpoint_id"] = fields["checkpoint_id"]
    if fields.get("checkpoint_map"):
        configurable["checkpoint_map"] = fields["checkpoint_map"]
    return RunnableConfig(configurable=configurable)
