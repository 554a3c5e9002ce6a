"""Run-scoped ("v1") SSE events, §2.2 to §2.4: what ``POST /threads/{id}/runs/stream`` sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from langchain_core.messages import BaseMessage, BaseMessageChunk, message_chunk_to_message

from atrium.runtime.engine.parts import GraphPart, Namespace, RunOutcome
from atrium.runtime.engine.request import RunRequest
from atrium.runtime.engine.serde import error_payload
from atrium.runtime.engine.state import checkpoint_ref


class RunEvent(NamedTuple):
    """``(event_name, data)``: one SSE event; ``data`` is encoded with ``serde.dumps``."""

    event: str
    data: Any


def event_name(mode: str, namespace: Namespace) -> str:
    """``<mode>`` at the root, ``<mode>|<ns1>|<ns2>`` inside subgraphs (§2.3)."""
    return "|".join((mode, *namespace))


def _debug_checkpoint_payload(payload: dict[str, Any]) -> dict[str, Any]:
    # The Agent Server adds client-shaped checkpoint refs to debug checkpoints, and replaces each
    # subgraph task's config by the checkpoint it points at.
    tasks = [
        {**{k: v for k, v in task.items() if k != "state"}, "checkpoint": task["state"]["configurable"]}
        if isinstance(task.get("state"), dict) and task["state"].get("configurable")
        else task
        for task in payload.get("tasks", [])
    ]
    return {
        **payload,
        "checkpoint": checkpoint_ref(payload.get("config")),
        "parent_checkpoint": checkpoint_ref(payload.get("parent_config")),
        "tasks": tasks,
    }


class V1Translator:
    """Turns graph parts into the SSE events one run-scoped stream asked for.

    The graph may be streamed with more modes than requested (``updates`` is always on so the outcome
    knows about breakpoints) and with subgraphs on; this filters both back out.
    """

    def __init__(self, request: RunRequest) -> None:
        self._request = request
        self._modes = set(request.stream_mode)
        self._subgraphs = request.stream_subgraphs
        # Legacy ``messages`` mode sends each message accumulated so far, so chunks are kept by id.
        self._messages: dict[str | None, BaseMessage] = {}

    def start(self) -> Iterator[RunEvent]:
        # ``thread_id`` is a superset of the reference (whose JS types promise it, §2.2).
        request = self._request
        yield RunEvent(
            "metadata", {"run_id": request.run_id, "thread_id": request.thread_id, "attempt": request.attempt}
        )

    def feed(self, part: GraphPart) -> Iterator[RunEvent]:
        if part.mode == "events":
            if "events" in self._modes:
                yield RunEvent("events", part.chunk)
            return
        if part.namespace and not self._subgraphs:
            return
        if part.mode == "messages":
            yield from self._messages_events(part)
        elif part.mode in self._modes:
            data = part.chunk
            if part.mode == "debug" and data.get("type") == "checkpoint":
                data = {**data, "payload": _debug_checkpoint_payload(data["payload"])}
            yield RunEvent(event_name(part.mode, part.namespace), data)

    def _messages_events(self, part: GraphPart) -> Iterator[RunEvent]:
        if "messages-tuple" in self._modes:
            # Named ``messages``, never ``messages-tuple``: the SDKs match on that name.
            yield RunEvent(event_name("messages", part.namespace), list(part.chunk))
        elif "messages" in self._modes:
            message, metadata = part.chunk
            known = self._messages.get(message.id)
            if known is None:
                yield RunEvent("messages/metadata", {message.id: {"metadata": metadata}})
            accumulated: BaseMessage = message
            if isinstance(known, BaseMessageChunk) and isinstance(message, BaseMessageChunk):
                accumulated = known + message
            self._messages[message.id] = accumulated
            name = "messages/partial" if isinstance(message, BaseMessageChunk) else "messages/complete"
            yield RunEvent(name, [message_chunk_to_message(accumulated)])

    def finish(self, outcome: RunOutcome) -> Iterator[RunEvent]:
        if outcome.error is not None:
            yield RunEvent("error", error_payload(outcome.error))
