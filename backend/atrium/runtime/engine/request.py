"""What a run needs to execute: the RunCreate fields (§3) the engine acts on, already validated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import RunControl
from langgraph.types import All, Command, Durability, Send

StreamMode: TypeAlias = Literal[
    "values", "updates", "messages-tuple", "messages", "custom", "tasks", "checkpoints", "debug", "events"
]
STREAM_MODES: frozenset[str] = frozenset(StreamMode.__args__)  # type: ignore[attr-defined]


def _goto_target(target: str | Mapping[str, Any]) -> str | Send:
    if isinstance(target, str):
        return target
    return Send(target["node"], target.get("input"))


def command_from_request(command: Mapping[str, Any]) -> Command[Any]:
    """Map a RunCreate ``command`` (``{resume?, update?, goto?}``) to a LangGraph ``Command``.

    ``resume`` is passed through: a bare value answers the single pending interrupt, a
    ``{interrupt_id: value}`` map answers several. ``update`` may be a dict or ``[[key, value], ...]``;
    ``goto`` a node name, a ``{"node", "input"}`` Send, or a list of either.
    """
    update = command.get("update")
    if isinstance(update, list | tuple) and all(
        isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str) for item in update
    ):
        update = [tuple(item) for item in update]
    goto = command.get("goto")
    targets = goto if isinstance(goto, list | tuple) else ([goto] if goto is not None else [])
    return Command(update=update, goto=tuple(_goto_target(t) for t in targets), resume=command.get("resume"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    """One attempt at executing a run.

    ``config`` is the merged run config (assistant → thread → request) including the server-added
    ``configurable`` keys (§3); the engine only adds ``thread_id``/``run_id`` when missing.
    """

    run_id: str
    thread_id: str | None
    config: RunnableConfig = field(default_factory=lambda: RunnableConfig())
    input: Any = None
    command: Mapping[str, Any] | None = None
    """Sent instead of ``input`` (``useStream.submit(undefined, {command})``); it wins when both are set."""
    context: Any = None
    stream_mode: Sequence[StreamMode] = ("values",)
    stream_subgraphs: bool = False
    interrupt_before: All | Sequence[str] | None = None
    interrupt_after: All | Sequence[str] | None = None
    durability: Durability | None = None
    attempt: int = 1
    control: RunControl | None = None
    """Lets the worker ask the run to stop at the next superstep (warm shutdown); it is then resumable."""

    def __post_init__(self) -> None:
        unknown = set(self.stream_mode) - STREAM_MODES
        if unknown:
            raise ValueError(
                f"unknown stream_mode {sorted(unknown)}; expected some of {sorted(STREAM_MODES)}"
            )

    def graph_input(self) -> Any:
        return command_from_request(self.command) if self.command else self.input
