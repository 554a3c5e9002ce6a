"""The vocabulary shared by the run loop and the protocol translators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from langgraph.pregel import Pregel

CompiledGraph: TypeAlias = Pregel[Any, Any, Any, Any]
"""A compiled LangGraph graph (``StateGraph.compile()``, ``@entrypoint``, any ``Pregel``)."""

Namespace: TypeAlias = tuple[str, ...]
"""A subgraph's position: one ``"<parent_node>:<task_id>"`` segment per level; ``()`` is the root graph."""

INTERRUPT_KEY = "__interrupt__"


@dataclass(frozen=True, slots=True)
class GraphPart:
    """One item of ``graph.astream(..., stream_mode=[...], subgraphs=True)``, or one callback event."""

    namespace: Namespace
    mode: str
    """A LangGraph stream mode (``values``, ``updates``, ``messages``, ...) or ``events``."""
    chunk: Any


RunStatus: TypeAlias = Literal["success", "interrupted", "error", "drained"]


@dataclass(slots=True)
class RunOutcome:
    """How a run ended, known once its stream is exhausted.

    ``interrupted`` covers both ``interrupt()`` calls and ``interrupt_before/after`` breakpoints (the run
    status is still ``success`` on the wire, §2.4; the thread becomes ``interrupted``). ``drained`` means
    the worker asked the run to stop through ``RunControl``: it saved its checkpoint and can be resumed.
    """

    status: RunStatus
    error: BaseException | None = None
