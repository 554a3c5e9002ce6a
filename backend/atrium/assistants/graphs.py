"""The platform's graphs: one registry per process, read from `ATRIUM_GRAPHS` (a langgraph.json)."""

from __future__ import annotations

import uuid
from functools import lru_cache

from django.conf import settings

from atrium.runtime.engine import GraphRegistry, default_assistant_id


@lru_cache(maxsize=1)
def registry() -> GraphRegistry:
    return GraphRegistry.from_file(settings.ATRIUM_GRAPHS)


def available_graph_ids() -> frozenset[str]:
    return frozenset(registry().graph_ids())


def default_assistant_id_for(org_id: uuid.UUID, graph_id: str) -> uuid.UUID:
    """Each org gets its own default ("system") assistant per graph, so ids cannot collide across orgs;
    derived like the reference's `uuid5(namespace, graph_id)`, with the org mixed in."""
    return uuid.uuid5(default_assistant_id(graph_id), str(org_id))
