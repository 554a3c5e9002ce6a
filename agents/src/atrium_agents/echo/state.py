"""State of the echo graph: the conversation plus what the turn is about to echo."""

from __future__ import annotations

from typing import Annotated

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


class EchoState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    pending: str
    """Text of the last human message, set by `prepare` and consumed by `respond`."""
    turns: int
    """How many turns this thread has answered: lets benchmarks see state survive between runs."""
