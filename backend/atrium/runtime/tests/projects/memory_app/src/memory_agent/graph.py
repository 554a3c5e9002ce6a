"""The memory agent: recall the memories nearest the conversation, answer, and save what it learned."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import END, StateGraph
from langgraph.runtime import Runtime

from memory_agent import tools, utils
from memory_agent.context import Context
from memory_agent.state import State


async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Answer with the user's most relevant memories in the prompt."""
    user_id = runtime.context.user_id
    recent = str([m.content for m in state.messages[-3:]])
    memories = await runtime.store.asearch(("memories", user_id), query=recent, limit=10)
    user_info = "\n".join(f"[{m.key}]: {m.value} (similarity: {m.score})" for m in memories)
    system = runtime.context.system_prompt.format(
        user_info=user_info, time=datetime.now(tz=timezone.utc).isoformat()
    )
    model = utils.load_chat_model(runtime.context.model).bind_tools([tools.upsert_memory])
    reply = await model.ainvoke([{"role": "system", "content": system}, *state.messages])
    return {"messages": [reply]}


async def store_memory(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the model's upsert_memory calls and report each back to it."""
    calls = state.messages[-1].tool_calls  # type: ignore[attr-defined]
    saved = await asyncio.gather(
        *(
            tools.upsert_memory(**call["args"], user_id=runtime.context.user_id, store=runtime.store)
            for call in calls
        )
    )
    return {
        "messages": [
            ToolMessage(content=result, tool_call_id=call["id"]) for call, result in zip(calls, saved)
        ]
    }


def route_message(state: State) -> str:
    last = state.messages[-1]
    if isinstance(last, AIMessage) and last.tool_calls:
        return "store_memory"
    return END


builder = StateGraph(State, context_schema=Context)
builder.add_node(call_model)
builder.add_node(store_memory)
builder.add_edge("__start__", "call_model")
builder.add_conditional_edges("call_model", route_message, ["store_memory", END])
builder.add_edge("store_memory", "call_model")
graph = builder.compile()
graph.name = "MemoryAgent"
