"""Request bodies of the Agent Server API. Unknown fields are ignored (the SDKs send extras)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

# Upper bounds of the numbers this API takes: past them a value would overflow a datetime or a
# Postgres integer (a 500) instead of meaning anything.
MAX_OFFSET = 2**31 - 1
MAX_AFTER_SECONDS = 366 * 24 * 3600  # a year: later runs are a cron's job


class Body(Schema):
    model_config = ConfigDict(extra="ignore")


def _checkpoint_fields(value: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint in any client form (`{checkpoint_id, checkpoint_ns?, checkpoint_map?}` or
    `{configurable: {...}}`) whose fields have the types the checkpointer's queries take."""
    configurable = value.get("configurable")
    fields = configurable if isinstance(configurable, dict) else value
    for key in ("checkpoint_id", "checkpoint_ns"):
        if fields.get(key) is not None and not isinstance(fields[key], str):
            raise ValueError(f"{key} must be a string")
    if fields.get("checkpoint_map") is not None and not isinstance(fields["checkpoint_map"], dict):
        raise ValueError("checkpoint_map must be an object")
    return value


Checkpoint = Annotated[dict[str, Any], AfterValidator(_checkpoint_fields)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


class ThreadCreateIn(Body):
    thread_id: uuid.UUID | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    ttl: dict[str, Any] | float | None = None
    supersteps: list[dict[str, Any]] | None = None
    graph_id: str | None = None


class ThreadPatchIn(Body):
    metadata: dict[str, Any] | None = None
    ttl: dict[str, Any] | float | None = None


class ThreadSearchIn(Body):
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    ids: list[uuid.UUID] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None
    extract: dict[str, str] | None = None


class ThreadCountIn(Body):
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None


class ThreadPruneIn(Body):
    thread_ids: list[str]
    strategy: Literal["delete", "keep_latest"] = "delete"


class StateCheckpointIn(Body):
    checkpoint: Checkpoint
    subgraphs: bool = False


class StatePatchIn(Body):
    metadata: dict[str, Any]


class StateUpdateIn(Body):
    values: Any = None
    as_node: str | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_id: str | None = None


class HistoryIn(Body):
    limit: int = Field(default=10, ge=1, le=1000)
    # A checkpoint id, or a checkpoint in either object form (agent-protocol.md, history).
    before: str | Checkpoint | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None


StreamModeName = Literal[
    "values", "updates", "messages", "messages-tuple", "custom", "events", "debug", "tasks", "checkpoints"
]


class RunCreateIn(Body):
    assistant_id: str
    input: Any = None
    command: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    on_disconnect: Literal["cancel", "continue"] = "continue"
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] = "enqueue"
    if_not_exists: Literal["reject", "create"] = "reject"
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_id: uuid.UUID | None = None
    checkpoint_during: bool | None = None
    webhook: str | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    after_seconds: float = Field(default=0, ge=0, le=MAX_AFTER_SECONDS)
    on_completion: Literal["delete", "keep"] = "delete"
    feedback_keys: list[str] | None = None


# The documented cancel actions (agent-protocol.md); anything else would leave a run cancelled by nobody.
CancelAction = Literal["interrupt", "rollback"]


class CancelManyIn(Body):
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None
