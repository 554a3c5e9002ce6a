"""Fixture graphs of the conformance suite, served by a live server through ``langgraph.json``.

Each is the smallest graph that exercises one part of the protocol (agent-protocol.md §7, V2.10):

* ``simple``: three nodes; the first writes a custom event; takes and keeps messages.
* ``chat``: one node streaming "hello there friend" from a fake chat model.
* ``approver``: chat → ``tools`` (runs a subgraph) → ``approve`` (``interrupt({"question": "approve?"})``),
  answering with the message ``approved=<answer>``.
* ``tooler``: a ``task`` tool call for a ``researcher`` subagent, executed by a ToolNode named
  ``tools`` whose tool runs a compiled subgraph (the deepagents shape ``useStream`` expects).
* ``spender``: two nodes, each one call of the offline model (which reports usage): a graph that is
  not the deep agent, for budgets spent mid-run.
* ``failing``: raises ``ValueError("kaboom")``.
* ``inspect``: returns what the server put in its run config (ids, the user, forwarded headers).
* ``connected``: calls a protected resource (``url``) as the user at ``provider``, with a token asked
  for at call time (consent interrupts the run when there is none).
* ``settings``: a graph with a dataclass context whose ``tone`` each run may override and whose
  ``sandbox_egress`` only builders set; returns the context it ran with and the names of the workspace
  secrets its run received.
* ``memory``: a third-party memory graph: writes ``value`` (if given) at ``namespace``/``key`` in the
  store and returns what it then reads there (``found``) and finds under ``namespace`` (``listed``).
* ``slow``: ``n`` supersteps (default 15), each sleeping ``delay`` seconds (default 0.2) and writing
  the custom event ``{"tick": i}``; for cancel, join, reconnect and double-texting (and, with a
  large ``n``, the run limits).
* ``chatter``: one node that writes custom events ``{"n": i}`` without end (the stream cap).
* ``runtime_info`` / ``runtime_info_typed``: return what they read from ``runtime.server_info``,
  ``runtime.execution_info`` and ``runtime.context`` (a dataclass context, a TypedDict context).
* ``runtime_factory``: a factory taking a ``ServerRuntime``; returns the identity of its caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import operator
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.types import interrupt
from langgraph_sdk.runtime import ServerRuntime
from typing_extensions import TypedDict

from atrium_agents.models.offline import OfflineChatModel

REPLY = "hello there friend"


class SimpleState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    steps: Annotated[list[str], operator.add]


def _first(state: SimpleState) -> dict[str, Any]:
    get_stream_writer()({"progress": "first"})
    return {"steps": ["first"]}


def _second(state: SimpleState) -> dict[str, Any]:
    return {"steps": ["second"]}


def _third(state: SimpleState) -> dict[str, Any]:
    return {"steps": ["third"]}


_simple = StateGraph(SimpleState)
_simple.add_node("first", _first)
_simple.add_node("second", _second)
_simple.add_node("third", _third)
_simple.add_edge(START, "first")
_simple.add_edge("first", "second")
_simple.add_edge("second", "third")
_simple.add_edge("third", END)
simple = _simple.compile()


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


async def _reply(state: ChatState) -> dict[str, Any]:
    # A fresh model per call: the fake consumes its iterator. Streams word by word.
    get_stream_writer()({"progress": "thinking"})
    model = GenericFakeChatModel(messages=iter([AIMessage(content=REPLY)]))
    return {"messages": [await model.ainvoke(state["messages"])]}


_chat = StateGraph(ChatState)
_chat.add_node("agent", _reply)
_chat.add_edge(START, "agent")
_chat.add_edge("agent", END)
chat = _chat.compile()


async def _spend(state: ChatState) -> dict[str, Any]:
    return {"messages": [await OfflineChatModel().ainvoke(state["messages"])]}


_spender = StateGraph(ChatState)
_spender.add_node("first", _spend)
_spender.add_node("second", _spend)
_spender.add_edge(START, "first")
_spender.add_edge("first", "second")
_spender.add_edge("second", END)
spender = _spender.compile()


class ApproverState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    steps: Annotated[list[str], operator.add]


async def _research(state: ApproverState) -> dict[str, Any]:
    # A subgraph invoked inside the node named ``tools``: its events carry ``tools:<task_id>``.
    result = await chat.ainvoke({"messages": [HumanMessage(content="research")]})
    return {"steps": ["tools", str(result["messages"][-1].content)]}


def _approve(state: ApproverState) -> dict[str, Any]:
    answer = interrupt({"question": "approve?"})
    return {"messages": [AIMessage(content=f"approved={answer}")], "steps": ["approve"]}


_approver = StateGraph(ApproverState)
_approver.add_node("agent", _reply)
_approver.add_node("tools", _research)
_approver.add_node("approve", _approve)
_approver.add_edge(START, "agent")
_approver.add_edge("agent", "tools")
_approver.add_edge("tools", "approve")
_approver.add_edge("approve", END)
approver = _approver.compile()


@tool
async def task(description: str, subagent_type: str) -> str:
    """Hand a task to a subagent."""
    result = await chat.ainvoke({"messages": [HumanMessage(content=description)]})
    return str(result["messages"][-1].content)


def _delegate(state: ChatState) -> dict[str, Any]:
    if any(m.type == "tool" for m in state["messages"]):
        return {"messages": [AIMessage(content="done")]}
    call = {
        "name": "task",
        "args": {"description": "look it up", "subagent_type": "researcher"},
        "id": "call_1",
    }
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


def _route(state: ChatState) -> str:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END


_tooler = StateGraph(ChatState)
_tooler.add_node("agent", _delegate)
_tooler.add_node("tools", ToolNode([task]))
_tooler.add_edge(START, "agent")
_tooler.add_conditional_edges("agent", _route, ["tools", END])
_tooler.add_edge("tools", "agent")
tooler = _tooler.compile()


class FailingState(TypedDict, total=False):
    steps: Annotated[list[str], operator.add]


def _explode(state: FailingState) -> dict[str, Any]:
    raise ValueError("kaboom")


_failing = StateGraph(FailingState)
_failing.add_node("explode", _explode)
_failing.add_edge(START, "explode")
_failing.add_edge("explode", END)
failing = _failing.compile()


class SlowState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    ticks: Annotated[list[int], operator.add]
    n: int
    delay: float


async def _tick(state: SlowState) -> dict[str, Any]:
    i = len(state.get("ticks") or [])
    await asyncio.sleep(float(state.get("delay") or 0.2))
    get_stream_writer()({"tick": i})
    return {"ticks": [i]}


def _more(state: SlowState) -> str:
    return "tick" if len(state.get("ticks") or []) < int(state.get("n") or 15) else END


_slow = StateGraph(SlowState)
_slow.add_node("tick", _tick)
_slow.add_edge(START, "tick")
_slow.add_conditional_edges("tick", _more, ["tick", END])
slow = _slow.compile()


class InspectState(TypedDict, total=False):
    seen: dict[str, Any]


def _inspect(state: InspectState, config: RunnableConfig) -> dict[str, Any]:
    configurable = config.get("configurable") or {}
    user = configurable.get("langgraph_auth_user")
    keys = ("thread_id", "run_id", "graph_id", "assistant_id", "user_id", "langgraph_auth_user_id", "custom")
    seen = {key: configurable.get(key) for key in keys}
    seen.update(
        {
            "auth_identity": getattr(user, "identity", None),
            "permissions": list(configurable.get("langgraph_auth_permissions") or []),
            "x_conformance": configurable.get("x-conformance"),
            "forwarded_secret_headers": sorted(k for k in configurable if k in ("x-api-key", "x-atrium-org")),
            "has_user_agent": bool(configurable.get("user-agent")),
            "tags": list(config.get("tags") or []),
        }
    )
    return {"seen": seen}


_inspect_graph = StateGraph(InspectState)
_inspect_graph.add_node("inspect", _inspect)
_inspect_graph.add_edge(START, "inspect")
_inspect_graph.add_edge("inspect", END)
inspect = _inspect_graph.compile()


class ConnectedState(TypedDict, total=False):
    provider: str
    url: str
    answer: str


async def _call_resource(state: ConnectedState, config: RunnableConfig) -> dict[str, Any]:
    """Act for the user at an outside service: the token comes from the runtime at call time."""
    import httpx

    from atrium_agents.auth import OAuthRequirement, provider_token

    token = await provider_token(config, OAuthRequirement(state["provider"], ("read",)))
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(state["url"], headers={"Authorization": token.authorization()})
    response.raise_for_status()
    return {"answer": str(response.json()["sub"])}


_connected = StateGraph(ConnectedState)
_connected.add_node("call_resource", _call_resource)
_connected.add_edge(START, "call_resource")
_connected.add_edge("call_resource", END)
connected = _connected.compile()


@dataclasses.dataclass
class SettingsContext:
    tone: str = dataclasses.field(default="plain", metadata={"overridable": True})
    sandbox_egress: list[dict[str, Any]] = dataclasses.field(default_factory=list)


class SettingsState(TypedDict, total=False):
    seen: dict[str, Any]


def _settings(
    state: SettingsState, config: RunnableConfig, runtime: Runtime[SettingsContext]
) -> dict[str, Any]:
    secrets = (config.get("configurable") or {}).get("__atrium_secrets") or {}
    return {
        "seen": {
            "tone": runtime.context.tone,
            "sandbox_egress": runtime.context.sandbox_egress,
            "secret_names": sorted(secrets),
        }
    }


_settings_graph = StateGraph(SettingsState, context_schema=SettingsContext)
_settings_graph.add_node("settings", _settings)
_settings_graph.add_edge(START, "settings")
_settings_graph.add_edge("settings", END)
settings = _settings_graph.compile()


class MemoryState(TypedDict, total=False):
    namespace: list[str]
    key: str
    value: dict[str, Any] | None
    found: dict[str, Any] | None
    listed: list[str]


async def _remember(state: MemoryState, *, store: BaseStore) -> dict[str, Any]:
    """Keeps memories where the input says, as LangGraph projects do with `("memories", user_id)`."""
    namespace = tuple(state["namespace"])
    if state.get("value") is not None:
        await store.aput(namespace, state["key"], state["value"] or {})
    item = await store.aget(namespace, state["key"])
    listed = [hit.key for hit in await store.asearch(namespace, limit=100)]
    return {"found": item.value if item is not None else None, "listed": listed}


_memory = StateGraph(MemoryState)
_memory.add_node("remember", _remember)
_memory.add_edge(START, "remember")
_memory.add_edge("remember", END)
memory = _memory.compile()


class ChatterState(TypedDict, total=False):
    said: int


async def _chatter(state: ChatterState) -> dict[str, Any]:
    write = get_stream_writer()
    i = 0
    while True:
        write({"n": i})
        i += 1
        if i % 50 == 0:
            await asyncio.sleep(0)  # a misbehaving graph, but one that can still be stopped


_chatter_graph = StateGraph(ChatterState)
_chatter_graph.add_node("chatter", _chatter)
_chatter_graph.add_edge(START, "chatter")
_chatter_graph.add_edge("chatter", END)
chatter = _chatter_graph.compile()


@dataclasses.dataclass
class RuntimeContext:
    tone: str = "plain"
    user_id: str = ""


class RuntimeTypedContext(TypedDict, total=False):
    tone: str
    user_id: str


class RuntimeInfoState(TypedDict, total=False):
    seen: dict[str, Any]


def _read_runtime(state: RuntimeInfoState, runtime: Runtime[Any]) -> dict[str, Any]:
    """What a graph reads from its runtime, as the deepagents scoping examples read it
    (``runtime.server_info.user.identity`` for a per-user namespace, the thread from execution_info)."""
    server, execution, context = runtime.server_info, runtime.execution_info, runtime.context
    user = server.user if server is not None else None
    return {
        "seen": {
            "assistant_id": server.assistant_id if server else None,
            "graph_id": server.graph_id if server else None,
            "identity": user.identity if user is not None else None,
            "user": dict(user) if user is not None else None,
            "user_item_identity": user["identity"] if user is not None else None,
            "thread_id": execution.thread_id if execution else None,
            "run_id": execution.run_id if execution else None,
            "checkpoint_id": execution.checkpoint_id if execution else None,
            "context_type": type(context).__name__,
            "tone": context["tone"] if isinstance(context, dict) else getattr(context, "tone", None),
            "context_user_id": (
                context.get("user_id") if isinstance(context, dict) else getattr(context, "user_id", None)
            ),
        }
    }


def _runtime_graph(context_schema: Any) -> Any:
    graph = StateGraph(RuntimeInfoState, context_schema=context_schema)
    graph.add_node("read_runtime", _read_runtime)
    graph.add_edge(START, "read_runtime")
    graph.add_edge("read_runtime", END)
    return graph.compile()


runtime_info = _runtime_graph(RuntimeContext)
runtime_info_typed = _runtime_graph(RuntimeTypedContext)


def runtime_factory(runtime: ServerRuntime[RuntimeContext]) -> Any:
    """A graph factory scoping by its caller, as deepagents' examples do. Reading a graph's schemas
    carries no caller (``runtime.user`` is None there); a run always does."""
    identity = runtime.user.identity if runtime.user is not None else None

    def _who(state: RuntimeInfoState) -> dict[str, Any]:
        return {"seen": {"factory_identity": identity}}

    graph = StateGraph(RuntimeInfoState)
    graph.add_node("who", _who)
    graph.add_edge(START, "who")
    graph.add_edge("who", END)
    return graph.compile()
