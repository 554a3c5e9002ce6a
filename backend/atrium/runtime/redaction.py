"""A run's stored request, scrubbed as its graph scrubs its checkpoints.

A graph may rewrite personal data in its input before LangGraph stores it (the deep agent's PII rules
do). The runtime keeps its own copy of the request too, in the run's row (`runtime_run.kwargs`): a
graph that exposes ``scrub_input(value) -> value`` has the input and command of that copy rewritten
the same way as soon as a worker has loaded it, so the row holds what the checkpoints hold.

The row is written by the web process before any graph is loaded, so the raw request exists there
until a worker claims the run (normally milliseconds, longer for a queued or delayed run). A `block`
rule that refuses the input blanks the stored request instead; the run then fails in the graph.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol, runtime_checkable

import psycopg
from psycopg.types.json import Jsonb

logger = logging.getLogger(__name__)
SCRUBBED_KEYS = ("input", "command")

_UPDATE = "UPDATE runtime_run SET kwargs = %(kwargs)s WHERE id = %(run)s"


@runtime_checkable
class InputScrubber(Protocol):
    def scrub_input(self, value: Any) -> Any: ...


def scrubbed_kwargs(graph: Any, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The run's kwargs with input and command scrubbed by `graph`; None when nothing changes."""
    if not isinstance(graph, InputScrubber):
        return None
    scrubbed = dict(kwargs)
    for key in SCRUBBED_KEYS:
        if kwargs.get(key) is None:
            continue
        try:
            scrubbed[key] = graph.scrub_input(kwargs[key])
        except Exception:  # a `block` rule: keep nothing of what it refused
            scrubbed[key] = None
    return scrubbed if scrubbed != kwargs else None


async def run_kwargs_scrub(pool: Any, *, graph: Any, run_id: str, kwargs: dict[str, Any]) -> None:
    """Rewrite the stored request of run `run_id` as `graph` scrubs input (see the module docstring)."""
    if not isinstance(graph, InputScrubber):
        return
    # On a thread: a graph's rules may take a while on some input, and this is the worker's shared loop.
    scrubbed = await asyncio.to_thread(scrubbed_kwargs, graph, kwargs)
    if scrubbed is None:
        return
    try:
        async with pool.connection() as conn:
            await conn.execute(_UPDATE, {"kwargs": Jsonb(scrubbed), "run": run_id})
    except psycopg.Error:  # the run itself does not depend on it; its checkpoints are clean regardless
        logger.warning("could not scrub the stored request of run %s", run_id, exc_info=True)
