"""LangGraph single-node graph template.

Returns a predefined response. Replace logic and configuration as needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict

import humanize
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime

from agent.helpers import describe_size


@dataclass
class Context:
    """Context parameters for the agent.

    Set these when creating assistants OR when invoking the graph.
    """

    greeting: str = field(default_factory=lambda: os.environ.get("TEMPLATE_GREETING", "unset"))
    operator_value: str = field(default_factory=lambda: os.environ.get("TEMPLATE_OPERATOR_WINS", "unset"))


@dataclass
class State:
    """Input state for the agent."""

    changeme: str = "example"


async def call_model(state: State, runtime: Runtime[Context]) -> Dict[str, Any]:
    """Process input and returns output."""
    context = runtime.context or Context()
    return {
        "changeme": (
            f"{context.greeting} | {context.operator_value} | {describe_size(1_000_000)} | "
            f"{humanize.intcomma(1234567)} | {state.changeme}"
        )
    }


# Define the graph
graph = (
    StateGraph(State, context_schema=Context)
    .add_node(call_model)
    .add_edge("__start__", "call_model")
    .compile(name="New Graph")
)
