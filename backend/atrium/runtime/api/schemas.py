"""Request bodies of the Agent Server API. Unknown fields are ignored (the SDKs send extras)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field


class Body(Schema):
    model_config = ConfigDict(extra="ignore")


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
    offset: int = Field(default=0, ge=0)
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
    checkpoint: dict[str, Any]
    subgraphs: bool = False


class StatePatchIn(Body):
    metadata: dict[str, Any]


class StateUpdateIn(Body):
    values: Any = None
    as_node: str | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None


class HistoryIn(Body):
    limit: int = Field(default=10, ge=1, le=1000)
    before: Any = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None


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
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: uuid.UUID | None = None
    checkpoint_during: bool | None = None
    webhook: str | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    after_seconds: float = Field(default=0, ge=0)
    on_completion: Literal["delete", "keep"] = "delete"
    feedback_keys: list[str] | None = None


class CancelManyIn(Body):
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None
