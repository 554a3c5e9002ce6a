"""Messages as v2 content-block lifecycles (§V2.4.5 ``messages``).

Each message becomes ``message-start``, then per content block ``content-block-start``,
``content-block-delta``\\* and ``content-block-finish``, then ``message-finish``. Streamed chunks are
forwarded as deltas as they arrive; a message a node returned whole is replayed through the same
lifecycle. The ``message-start`` id is the message's own id, the one it later has in ``values``, so the
client can reconcile the streamed text with the state.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    BaseMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from atrium.runtime.engine.parts import Namespace

MessageEvent = dict[str, Any]
"""The ``data`` of one v2 ``messages`` event."""

_USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def _role(message: BaseMessage) -> str:
    if isinstance(message, HumanMessage):
        return "human"
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, ToolMessage):
        return "tool"
    return "ai"


def _block_key(block: dict[str, Any]) -> tuple[str, Any]:
    # Providers tag parallel blocks with an ``index``; plain string content comes as one text block
    # per chunk without one, which must keep extending the same block.
    if block["type"] == "tool_call_chunk":
        return ("tool_call", block.get("index") if block.get("index") is not None else block.get("id"))
    if block.get("index") is not None:
        return ("index", block["index"])
    return ("type", block["type"])


def _without_index(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "index"}


@dataclass(slots=True)
class _Block:
    wire_index: int
    kind: str
    text: str = ""
    tool_id: str | None = None
    tool_name: str | None = None
    last: dict[str, Any] = field(default_factory=dict)

    def start_content(self) -> dict[str, Any]:
        if self.kind == "text":
            return {"type": "text", "text": ""}
        if self.kind == "reasoning":
            return {"type": "reasoning", "reasoning": ""}
        if self.kind == "tool_call_chunk":
            return {"type": "tool_call_chunk", "id": self.tool_id, "name": self.tool_name, "args": ""}
        return self.last

    def add(self, block: dict[str, Any]) -> dict[str, Any] | None:
        """Accumulate a slice; return the protocol delta it carries, if any."""
        self.last = _without_index(block)
        if self.kind == "text" and block.get("text"):
            self.text += block["text"]
            return {"type": "text-delta", "text": block["text"]}
        if self.kind == "reasoning" and block.get("reasoning"):
            self.text += block["reasoning"]
            return {"type": "reasoning-delta", "reasoning": block["reasoning"]}
        if self.kind == "tool_call_chunk":
            self.tool_id = self.tool_id or block.get("id")
            self.tool_name = self.tool_name or block.get("name")
            if block.get("args"):
                self.text += block["args"]
                return {"type": "tool-call-delta", "args": block["args"]}
        return None

    def finished_content(self) -> dict[str, Any]:
        if self.kind == "text":
            return {"type": "text", "text": self.text}
        if self.kind == "reasoning":
            return {"type": "reasoning", "reasoning": self.text}
        if self.kind == "tool_call_chunk":
            try:
                args = json.loads(self.text or "{}")
            except json.JSONDecodeError:
                return {
                    "type": "invalid_tool_call",
                    "id": self.tool_id,
                    "name": self.tool_name,
                    "args": self.text,
                    "error": "Failed to parse tool call arguments as JSON",
                }
            return {"type": "tool_call", "id": self.tool_id or "", "name": self.tool_name or "", "args": args}
        return self.last


@dataclass(slots=True)
class _OpenMessage:
    blocks: dict[tuple[str, Any], _Block] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)

    def add(self, message: BaseMessage) -> Iterator[MessageEvent]:
        for raw in _slices(message):
            key = _block_key(raw)
            current = self.blocks.get(key)
            if current is None:
                current = self.blocks[key] = _Block(
                    wire_index=len(self.blocks),
                    kind=raw["type"],
                    tool_id=raw.get("id"),
                    tool_name=raw.get("name"),
                    last=_without_index(raw),
                )
                yield {
                    "event": "content-block-start",
                    "index": current.wire_index,
                    "content": current.start_content(),
                }
            delta = current.add(raw)
            if delta is not None:
                yield {"event": "content-block-delta", "index": current.wire_index, "delta": delta}
        usage = getattr(message, "usage_metadata", None) or {}
        for usage_key in _USAGE_KEYS:
            if usage_key in usage:
                self.usage[usage_key] = self.usage.get(usage_key, 0) + usage[usage_key]

    def finish(self) -> Iterator[MessageEvent]:
        for block in self.blocks.values():
            yield {
                "event": "content-block-finish",
                "index": block.wire_index,
                "content": block.finished_content(),
            }
        yield {"event": "message-finish", **({"usage": self.usage} if self.usage else {})}


_TOOL_CALL_BLOCKS = frozenset({"tool_call", "tool_call_chunk", "invalid_tool_call"})


def _slices(message: BaseMessage) -> list[dict[str, Any]]:
    """The content blocks a message adds.

    A chunk's tool-call slices are read from ``tool_call_chunks``: on the chunk flagged last,
    ``content_blocks`` already parses the args of that one slice, losing it when it is partial JSON.
    """
    blocks: list[dict[str, Any]] = [dict(block) for block in message.content_blocks]
    if not isinstance(message, AIMessageChunk):
        return blocks
    return [b for b in blocks if b["type"] not in _TOOL_CALL_BLOCKS] + [
        {"type": "tool_call_chunk", **chunk} for chunk in message.tool_call_chunks
    ]


def _message_start(message: BaseMessage, message_id: str) -> MessageEvent:
    start: MessageEvent = {"event": "message-start", "role": _role(message), "id": message_id}
    if isinstance(message, ToolMessage):
        start["tool_call_id"] = message.tool_call_id
    if isinstance(message, AIMessage):
        response = message.response_metadata or {}
        metadata = {
            k: response[src]
            for k, src in (("provider", "model_provider"), ("model", "model_name"))
            if src in response
        }
        if metadata:
            start["metadata"] = metadata
    return start


class MessageLifecycles:
    """Open messages per namespace; feed ``messages``-mode pairs, get content-block events back."""

    def __init__(self) -> None:
        self._open: dict[tuple[Namespace, str], _OpenMessage] = {}

    def feed(self, namespace: Namespace, message: BaseMessage) -> Iterator[MessageEvent]:
        # LangGraph's messages mode gives every message an id before emitting it, and that id is the
        # one the message keeps in the state; the fallback only satisfies the ``str | None`` type.
        message_id = message.id or str(uuid.uuid4())
        key = (namespace, message_id)
        current = self._open.get(key)
        if current is None:
            current = self._open[key] = _OpenMessage()
            yield _message_start(message, message_id)
        yield from current.add(message)
        if not isinstance(message, BaseMessageChunk) or getattr(message, "chunk_position", None) == "last":
            yield from self._open.pop(key).finish()

    def close(self, namespace: Namespace | None = None) -> Iterator[tuple[Namespace, MessageEvent]]:
        """Finish messages whose model never flagged a last chunk (all, or those of one namespace)."""
        for key in [k for k in self._open if namespace is None or k[0] == namespace]:
            for event in self._open.pop(key).finish():
                yield key[0], event
