"""LangGraph single-node graph template.

Returns a predefined response. Replace logic and configuration as needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict

import humanize
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime

from agent.context import Context
from agent.helpers import describe_size
from agent.utils import load_chat_model


@dataclass
class State:
    """Input state for the agent."""

    changeme: str = "example"


async def call_model(state: State, runtime: Runtime[Context]) -> Dict[str, Any]:
    """Process input and returns output."""
    context = runtime.context or Context()
    model = load_chat_model(context.model)
    reply = await model.ainvoke([("user", state.changeme)])
    return {
        "changeme": (
            f"{context.template_greeting} | {context.template_operator_wins} | "
            f"{describe_size(1_000_000)} | {humanize.intcomma(1234567)} | {state.changeme} | {reply.content}"
        )
    }


# Define the graph
graph = (
    StateGraph(State, context_schema=Context)
    .add_node(call_model)
    .add_edge("__start__", "call_model")
    .compile(name="New Graph")
)
