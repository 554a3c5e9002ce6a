"""Thread-scoped ("v2") protocol events, §V2.4.5 and §V2.8, translated from the same graph parts as v1.

Translating the v1 stream (rather than running ``astream_events(version="v3")``) leaves the graph's
state untouched: v3 rewrites AI message content into content-block lists, which breaks graphs that
expect strings (§V2.4.6). Sequence numbers and event ids are the event log's job, not this module's.

Per run: root ``lifecycle running`` first; nested ``started`` before a subgraph's first event and
``completed|failed|interrupted`` when its parent task ends; ``checkpoints`` just before the ``values``
of the same superstep; ``input.requested`` before the root terminal; exactly one root terminal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import Interrupt

from atrium.runtime.engine.parts import INTERRUPT_KEY, GraphPart, Namespace, RunOutcome
from atrium.runtime.engine.serde import error_payload
from atrium.runtime.engine.v2_messages import MessageLifecycles

TERMINAL_LIFECYCLE = frozenset({"completed", "failed", "interrupted"})

_TERMINAL_BY_STATUS = {"success": "completed", "interrupted": "interrupted", "error": "failed"}


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class ProtocolEvent:
    """The ``method`` and ``params`` of one v2 event; the log wraps it into the wire envelope."""

    method: str
    namespace: Namespace
    data: Any
    node: str | None = None
    timestamp: int = field(default_factory=_now_ms)

    @property
    def is_run_terminal(self) -> bool:
        """The root ``completed``/``failed``/``interrupted``: write the run status before appending it."""
        return (
            self.method == "lifecycle" and not self.namespace and self.data.get("event") in TERMINAL_LIFECYCLE
        )

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "namespace": list(self.namespace),
            "timestamp": self.timestamp,
            "data": self.data,
        }
        if self.node is not None:
            params["node"] = self.node
        return params


def _segment_parts(segment: str) -> tuple[str, str]:
    """``"tools:9ac2…"`` → ``("tools", "9ac2…")``."""
    name, _, task_id = segment.partition(":")
    return name, task_id


def _checkpoint_summary(payload: dict[str, Any]) -> dict[str, Any]:
    configurable = payload["config"]["configurable"]
    parent = (payload.get("parent_config") or {}).get("configurable") or {}
    summary: dict[str, Any] = {"id": configurable["checkpoint_id"]}
    if parent.get("checkpoint_id"):
        summary["parent_id"] = parent["checkpoint_id"]
    summary["step"] = payload["metadata"]["step"]
    summary["source"] = payload["metadata"]["source"]
    return summary


def _task_status(result: dict[str, Any]) -> tuple[str, str | None]:
    # An interrupted task also reports no error: interrupts decide first.
    if result.get("interrupts"):
        return "interrupted", None
    if result.get("error"):
        return "failed", str(result["error"])
    return "completed", None


class V2Translator:
    """Turns graph parts into v2 events for one run of the graph named ``graph_name``."""

    def __init__(self, graph_name: str) -> None:
        self._graph_name = graph_name
        self._messages = MessageLifecycles()
        # values wait here for the checkpoint of their superstep, which LangGraph streams just after them
        self._pending_values: dict[Namespace, Any] = {}
        self._open_namespaces: list[Namespace] = []
        self._seen_namespaces: set[Namespace] = {()}
        self._requested_interrupts: set[str] = set()
        self._unrequested_interrupts: dict[str, tuple[Namespace, Interrupt]] = {}

    def start(self) -> Iterator[ProtocolEvent]:
        yield ProtocolEvent("lifecycle", (), {"event": "running", "graph_name": self._graph_name})

    def feed(self, part: GraphPart) -> Iterator[ProtocolEvent]:
        namespace, mode, chunk = part.namespace, part.mode, part.chunk
        if mode == "events":
            return
        if mode == "checkpoints":
            yield from self._flush_values(exclude=namespace)
            yield from self._open(namespace)
            yield ProtocolEvent("checkpoints", namespace, _checkpoint_summary(chunk))
            yield from self._flush_values()
            return
        yield from self._flush_values()
        yield from self._open(namespace)
        if mode == "values":
            self._pending_values[namespace] = self._strip_interrupts(namespace, chunk)
        elif mode == "updates":
            yield from self._updates(namespace, chunk)
        elif mode == "messages":
            message, metadata = chunk
            node = metadata.get("langgraph_node")
            for data in self._messages.feed(namespace, message):
                yield ProtocolEvent("messages", namespace, data, node=node)
        elif mode == "custom":
            yield ProtocolEvent("custom", namespace, {"payload": chunk})
        elif mode == "tools":
            yield ProtocolEvent("tools", namespace, chunk)
        elif mode == "tasks":
            yield ProtocolEvent("tasks", namespace, chunk)
            if "result" in chunk:
                status, error = _task_status(chunk)
                yield from self._close(
                    lambda ns: _is_child_of_task(ns, namespace, chunk["id"]), status, error
                )

    def finish(self, outcome: RunOutcome) -> Iterator[ProtocolEvent]:
        yield from self._flush_values()
        for namespace, data in self._messages.close():
            yield ProtocolEvent("messages", namespace, data)
        for interrupt_id, (namespace, interrupt) in list(self._unrequested_interrupts.items()):
            if interrupt_id not in self._requested_interrupts:
                yield from self._input_requested(namespace, interrupt)
        if outcome.status == "drained":
            return  # paused, not ended: the run continues from its checkpoint and ends then
        terminal = _TERMINAL_BY_STATUS[outcome.status]
        error = error_payload(outcome.error)["message"] if outcome.error is not None else None
        yield from self._close(lambda ns: True, terminal, error)
        root: dict[str, Any] = {"event": terminal, "graph_name": self._graph_name}
        if error is not None:
            root["error"] = error
        yield ProtocolEvent("lifecycle", (), root)

    def _flush_values(self, *, exclude: Namespace | None = None) -> Iterator[ProtocolEvent]:
        for namespace in [ns for ns in self._pending_values if ns != exclude]:
            yield ProtocolEvent("values", namespace, self._pending_values.pop(namespace))

    def _open(self, namespace: Namespace) -> Iterator[ProtocolEvent]:
        """``lifecycle started`` for each level of ``namespace`` not seen yet, outermost first."""
        for depth in range(1, len(namespace) + 1):
            prefix = namespace[:depth]
            if prefix in self._seen_namespaces:
                continue
            self._seen_namespaces.add(prefix)
            self._open_namespaces.append(prefix)
            name, task_id = _segment_parts(prefix[-1])
            yield ProtocolEvent(
                "lifecycle",
                prefix,
                {
                    "event": "started",
                    "namespace": list(prefix),
                    "graph_name": name,
                    "trigger_call_id": task_id,
                },
            )

    def _close(
        self, matches: Callable[[Namespace], bool], status: str, error: str | None
    ) -> Iterator[ProtocolEvent]:
        """Terminal lifecycle for open namespaces that ``matches``, innermost first."""
        closing = [ns for ns in self._open_namespaces if matches(ns)]
        for namespace in sorted(closing, key=len, reverse=True):
            self._open_namespaces.remove(namespace)
            for message_ns, message_event in self._messages.close(namespace):
                yield ProtocolEvent("messages", message_ns, message_event)
            data: dict[str, Any] = {
                "event": status,
                "namespace": list(namespace),
                "graph_name": _segment_parts(namespace[-1])[0],
            }
            if error is not None:
                data["error"] = error
            yield ProtocolEvent("lifecycle", namespace, data)

    def _updates(self, namespace: Namespace, chunk: dict[str, Any]) -> Iterator[ProtocolEvent]:
        for node, update in chunk.items():
            if node == INTERRUPT_KEY:
                for interrupt in update:
                    yield from self._input_requested(namespace, interrupt)
            else:
                yield ProtocolEvent("updates", namespace, {"node": node, "values": update}, node=node)

    def _strip_interrupts(self, namespace: Namespace, values: Any) -> Any:
        # §V2.4.5: v2 values never carry ``__interrupt__``; interrupts travel as ``input.requested``.
        if not isinstance(values, dict) or INTERRUPT_KEY not in values:
            return values
        for interrupt in values[INTERRUPT_KEY]:
            self._unrequested_interrupts.setdefault(interrupt.id, (namespace, interrupt))
        return {k: v for k, v in values.items() if k != INTERRUPT_KEY}

    def _input_requested(self, namespace: Namespace, interrupt: Interrupt) -> Iterator[ProtocolEvent]:
        if interrupt.id in self._requested_interrupts:
            return
        self._requested_interrupts.add(interrupt.id)
        # `payload` is what the JS SDK reads; the Python SDK (0.4.14) reads `value`: send both, as Aegra does.
        data = {"interrupt_id": interrupt.id, "payload": interrupt.value, "value": interrupt.value}
        yield ProtocolEvent("input.requested", namespace, data)


def _is_child_of_task(candidate: Namespace, parent: Namespace, task_id: str) -> bool:
    """Whether ``candidate`` is a subgraph namespace under the task ``task_id`` of ``parent``."""
    depth = len(parent)
    return (
        len(candidate) > depth
        and candidate[:depth] == parent
        and _segment_parts(candidate[depth])[1] == task_id
    )
