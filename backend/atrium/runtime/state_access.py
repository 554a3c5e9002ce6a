"""Thread state through the graph (checkpoints are only meaningful with the graph's channels):
current state, state at a checkpoint, history, and updates made outside a run."""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import sync_to_async

from atrium.assistants.graphs import registry
from atrium.assistants.models import Assistant
from atrium.runtime.db import with_live_connection
from atrium.runtime.engine import checkpoint_config, dumps, empty_thread_state, thread_state
from atrium.runtime.engine.parts import CompiledGraph
from atrium.runtime.engine.state import interrupt_dict
from atrium.runtime.models import Thread
from atrium.runtime.persistence import persistence
from atrium.runtime.tenant_store import TenantStore


async def graph_for(thread: Thread) -> CompiledGraph | None:
    if not thread.graph_id or thread.graph_id not in registry():
        return None
    stores = await persistence()
    settings = await sync_to_async(with_live_connection(_assistant_context), thread_sensitive=False)(
        thread.assistant_id
    )
    config = {
        "configurable": {
            **settings,
            "thread_id": str(thread.id),
            "graph_id": thread.graph_id,
            "assistant_id": str(thread.assistant_id or ""),
            "user_id": str(thread.owner_id or ""),
            "org_id": str(thread.org_id),
        }
    }
    return await registry().get_graph(
        thread.graph_id,
        config,  # type: ignore[arg-type]
        checkpointer=stores.checkpointer,  # type: ignore[arg-type]
        store=TenantStore(stores.store, str(thread.org_id), thread.owner_id),  # as the thread's runs see it
        access_context="threads.read",
    )


def _assistant_context(assistant_id: Any) -> dict[str, Any]:
    """The settings of the thread's assistant, which graph factories see as runs do: a factory may build
    a different graph per settings (the deep agent adds approval nodes and PII scrubbing), and state
    read or written through another graph would miss its pending approvals or store raw input."""
    if assistant_id is None:
        return {}
    context = Assistant.objects.filter(id=assistant_id).values_list("context", flat=True).first()
    return dict(context or {})


def _base_config(thread: Thread, checkpoint: Any = None) -> dict[str, Any]:
    """The thread's head, or the given checkpoint (any client form); the thread id is the path's."""
    config = checkpoint_config(str(thread.id), checkpoint)
    return dict(config) if config else {"configurable": {"thread_id": str(thread.id)}}


def jsonable(value: Any) -> Any:
    return json.loads(dumps(value))


async def state_get(
    thread: Thread, *, checkpoint: dict[str, Any] | None = None, subgraphs: bool = False
) -> dict[str, Any]:
    graph = await graph_for(thread)
    if graph is None:
        return empty_thread_state()
    snapshot = await graph.aget_state(_base_config(thread, checkpoint), subgraphs=subgraphs)  # type: ignore[arg-type]
    if not snapshot.config and not snapshot.values:
        return empty_thread_state()
    return thread_state(snapshot)


async def history(
    thread: Thread,
    *,
    limit: int = 10,
    before: Any = None,
    metadata: dict[str, Any] | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    graph = await graph_for(thread)
    if graph is None:
        return []
    before_config = checkpoint_config(str(thread.id), before) if before else None
    states = []
    async for snapshot in graph.aget_state_history(
        _base_config(thread, checkpoint),  # type: ignore[arg-type]
        limit=limit,
        before=before_config,
        filter=metadata or None,  # type: ignore[arg-type]
    ):
        states.append(thread_state(snapshot))
    return states


def state_write_require() -> None:
    """Writing state as a node can forge what a node decided (an approved tool call, a model's answer)
    and skip the guardrails between nodes: that is configuring the agent, not using it."""
    from atrium.core.tenancy import Permission, current_scope

    current_scope().require(Permission.CONFIGURE_AGENTS)


async def state_update(
    thread: Thread, *, values: Any, as_node: str | None = None, checkpoint: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write a new checkpoint as if `as_node` ran; returns `{"checkpoint": {...}}` and caches the head."""
    from asgiref.sync import sync_to_async

    state_write_require()

    from atrium.runtime.services.threads import thread_record_state

    graph = await graph_for(thread)
    if graph is None:
        from atrium.core.errors import AtriumError

        raise AtriumError(
            "This thread has no graph yet: run it once, or create it with metadata.graph_id.",
            code="thread_without_graph",
        )
    config = await graph.aupdate_state(_base_config(thread, checkpoint), values, as_node=as_node)  # type: ignore[arg-type]
    snapshot = await graph.aget_state({"configurable": {"thread_id": str(thread.id)}})
    interrupts = {t.id: [interrupt_dict(i) for i in t.interrupts] for t in snapshot.tasks if t.interrupts}
    await sync_to_async(with_live_connection(thread_record_state), thread_sensitive=False)(
        thread_id=str(thread.id),
        values=jsonable(snapshot.values),
        next_nodes=list(snapshot.next),
        interrupts=jsonable(interrupts),
    )
    return {"checkpoint": config["configurable"]}
