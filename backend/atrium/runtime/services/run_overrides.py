"""What a run's request may change of its assistant: the one rule, applied wherever a run is created.

Builders and admins configure assistants, so their runs may carry any setting (the worker still holds
them to the admins' approvals, atrium.assistants.policy). Everyone else uses the assistant as
configured: a run may set only the context fields its graph marks overridable
(atrium.assistants.graphs.OVERRIDABLE), may resume an interrupt but not steer the graph to a node or
write its state (which could skip an approval), and may not name a webhook.
"""

from __future__ import annotations

import uuid
from typing import Any

from atrium.assistants.graphs import overridable_fields
from atrium.assistants.selectors import assistant_get
from atrium.core.errors import PermissionDeniedError
from atrium.core.tenancy import Permission, Scope

# Configurable keys LangGraph itself reads to pick a checkpoint of the caller's own thread.
CHECKPOINT_KEYS = frozenset({"checkpoint_id", "checkpoint_ns", "checkpoint_map"})


def run_overrides_check(
    *,
    scope: Scope,
    assistant_id: uuid.UUID,
    context: dict[str, Any] | None,
    config: dict[str, Any] | None,
    command: dict[str, Any] | None,
    webhook: str | None,
    reserved: tuple[str, ...],
) -> None:
    """Raise PermissionDeniedError (403) naming what the caller may not set; `reserved` configurable
    keys are the server's own (dropped anyway)."""
    if scope.has(Permission.CONFIGURE_AGENTS):
        return
    if webhook:
        raise PermissionDeniedError("Only builders and admins may give a run a webhook.")
    if command and (command.get("goto") is not None or command.get("update") is not None):
        raise PermissionDeniedError(
            "A run's command may only resume an interrupt: goto and update need the builder role."
        )
    configurable = (config or {}).get("configurable") or {}
    keys = set(context or {}) | {k for k in configurable if k not in reserved and k not in CHECKPOINT_KEYS}
    if not keys:
        return
    allowed = overridable_fields(assistant_get(assistant_id=assistant_id).graph_id)
    refused = sorted(keys - allowed)
    if refused:
        raise PermissionDeniedError(
            f"This assistant does not let a run override {refused[0]!r}; its builders set it."
        )
