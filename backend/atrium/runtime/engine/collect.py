"""Light translators for runs that only clients of the run-scoped protocol asked for.

A run started through the v1 API streams v1 events only; producing the full v2 translation for it too
would roughly double the per-run CPU cost. Observers of the thread's v2 stream (the web app looking at
a thread an SDK client drives) still see the run's lifecycle and its final state through
`V2Summary`, and `FinalState` keeps the last root values so the worker need not read the state back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from atrium.runtime.engine.parts import INTERRUPT_KEY, GraphPart, RunOutcome
from atrium.runtime.engine.serde import error_payload
from atrium.runtime.engine.v2_events import ProtocolEvent

_TERMINAL = {"success": "completed", "interrupted": "interrupted", "error": "failed"}


class FinalState:
    """Remembers the last root `values` of a run (emits nothing)."""

    def __init__(self) -> None:
        self.values: Any = None
        self.seen = False

    def start(self) -> Iterator[Any]:
        return iter(())

    def feed(self, part: GraphPart) -> Iterator[Any]:
        if part.mode == "values" and not part.namespace:
            chunk = part.chunk
            if isinstance(chunk, dict) and INTERRUPT_KEY in chunk:
                chunk = {k: v for k, v in chunk.items() if k != INTERRUPT_KEY}
            self.values, self.seen = chunk, True
        return iter(())

    def finish(self, outcome: RunOutcome) -> Iterator[Any]:
        return iter(())


class V2Summary:
    """Root `lifecycle running`, then the final root `values` and the terminal lifecycle event."""

    def __init__(self, graph_name: str, final: FinalState) -> None:
        self._graph_name = graph_name
        self._final = final

    def start(self) -> Iterator[ProtocolEvent]:
        yield ProtocolEvent("lifecycle", (), {"event": "running", "graph_name": self._graph_name})

    def feed(self, part: GraphPart) -> Iterator[ProtocolEvent]:
        return iter(())

    def finish(self, outcome: RunOutcome) -> Iterator[ProtocolEvent]:
        if outcome.status == "drained":
            return
        if self._final.seen:
            yield ProtocolEvent("values", (), self._final.values)
        data: dict[str, Any] = {"event": _TERMINAL[outcome.status], "graph_name": self._graph_name}
        if outcome.error is not None:
            data["error"] = error_payload(outcome.error)["message"]
        yield ProtocolEvent("lifecycle", (), data)
