"""The default ``agent`` graph: a deep agent whose stack is built from an assistant's settings.

The runtime awaits ``make_graph(config)`` for every run, as LangGraph deployments await async graph
factories named in ``langgraph.json``. Settings come from ``config["configurable"]`` because they
change the middleware stack itself (which guardrails exist, in which order, with which models), so
one built graph is cached per settings and shared by every user of an assistant; ids are resolved at
run time from context. The factory also reads the run's ``thread_id`` / ``assistant_id`` to get the
run's sandbox ready (found or created, off the event loop) before the run starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from deepagents import create_deep_agent
from langchain.agents.middleware import AgentMiddleware, InterruptOnConfig, TodoListMiddleware
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from atrium_agents.deep_agent.budget import BudgetMiddleware
from atrium_agents.deep_agent.connected_apis import connected_api_tools
from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.guardrails import build_guardrails
from atrium_agents.deep_agent.mcp import McpToolsMiddleware
from atrium_agents.deep_agent.memory import build_backend, build_permissions, memory_sources
from atrium_agents.deep_agent.pii import PIISafeGraph, Redactor
from atrium_agents.deep_agent.sandbox_files import SandboxFilesMiddleware
from atrium_agents.deep_agent.skills import skill_permissions, skill_routes, skill_sources
from atrium_agents.deep_agent.subagents import build_subagents
from atrium_agents.deep_agent.tools import TOOLS
from atrium_agents.models.factory import make_chat_model
from atrium_agents.sandbox.egress import EgressPolicy, EgressRule, parse_rules
from atrium_agents.sandbox.provider import SandboxProvider
from atrium_agents.sandbox.run_scoped import RunScopedSandbox, default_provider, labels_from

SECRETS_KEY = "__atrium_secrets"
"""Configurable key of the provider secrets mapping. LangGraph copies string values of configurable
into every checkpoint's metadata, except keys starting with ``__``: secrets must never be plain
configurable strings."""


SANDBOX_PROMPT = """

You have an isolated Linux sandbox {network}: `execute` runs shell commands in it (python3
and coreutils are there), and files you keep under /workspace stay for later turns. Paths outside
/workspace and /memories/ are not kept. Commands are limited in time, memory and processes; when one is
stopped by a limit, the output says which. Skills, if any, are copied to /workspace/skills/.{memories}"""

SEEDED_MEMORIES = """ Your memories are copied to /workspace/memories/ for code to read{sync}."""

EGRESS_NETWORK = """that reaches only these hosts, over HTTP through a proxy that adds their
credentials (never ask for or handle keys yourself): {hosts}. Use http:// URLs for them (the proxy
switches to HTTPS where configured; https:// URLs work too, but without credentials)"""


def sandbox_prompt(settings: Context, rules: tuple[EgressRule, ...]) -> str:
    hosts = ", ".join(rule.host for rule in rules)
    network = EGRESS_NETWORK.format(hosts=hosts) if rules else "without network access"
    memories = ""
    if settings.sandbox == "thread" and settings.user_memory != "off":
        sync = "; what code changes or adds there is saved after your turn"
        memories = SEEDED_MEMORIES.format(sync=sync if settings.user_memory == "read_write" else "")
    return SANDBOX_PROMPT.format(network=network, memories=memories)


IDENTITY_FIELDS = ("user_id", "org_id", "assistant_id")
_BUILD_CACHE_SIZE = 64
_built: OrderedDict[str, CompiledStateGraph[Any, Any, Any, Any]] = OrderedDict()
_built_lock = threading.Lock()


def _cache_key(settings: Context, secrets: Mapping[str, str] | None) -> str:
    """Settings minus the run's identity (resolved per run from context), plus a digest of the
    secrets: two assistants with the same settings and keys share one built graph."""
    values = {k: v for k, v in dataclasses.asdict(settings).items() if k not in IDENTITY_FIELDS}
    digest = hashlib.sha256(json.dumps(sorted((secrets or {}).items())).encode()).hexdigest()
    return json.dumps(values, sort_keys=True, default=str) + digest


async def make_graph(config: RunnableConfig | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Graph factory named in ``langgraph.json``; with no config it builds the offline default.

    With a sandbox and the run's ids in ``config["configurable"]`` (``org_id`` plus ``thread_id`` or
    ``assistant_id``, per the assistant's scope), the sandbox is found or created here, so a run whose
    sandbox cannot exist fails before it starts, and its first command does not pay for the creation.
    Without them (schema or graph requests) no sandbox is touched.
    """
    configurable: Mapping[str, Any] = (config or {}).get("configurable") or {}
    graph = graph_for(config)
    settings = Context.from_mapping(configurable)
    if settings.sandbox != "off":
        labels = labels_from(settings.sandbox, configurable)
        if labels is not None:
            await asyncio.to_thread(default_provider().get_or_create, labels)
    return graph


def graph_for(config: RunnableConfig | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The built graph for the settings in ``config["configurable"]`` (synchronous; no sandbox work).

    Building a deep agent costs tens of milliseconds and the runtime asks for the graph on every run, so
    built graphs are kept per settings. They are safe to share: the runtime binds its checkpointer and
    store to a copy for each run.
    """
    configurable: Mapping[str, Any] = (config or {}).get("configurable") or {}
    settings = Context.from_mapping(configurable)
    secrets = configurable.get(SECRETS_KEY)
    key = _cache_key(settings, secrets)
    with _built_lock:
        graph = _built.get(key)
        if graph is not None:
            _built.move_to_end(key)
            return graph
    graph = build_agent(settings, secrets=secrets)
    with _built_lock:
        _built[key] = graph
        while len(_built) > _BUILD_CACHE_SIZE:
            _built.popitem(last=False)
    return graph


def build_agent(
    settings: Context,
    *,
    secrets: Mapping[str, str] | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
    sandbox_provider: SandboxProvider | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build the agent for one assistant's settings.

    Leave ``checkpointer``, ``store`` and ``sandbox_provider`` unset in production: the runtime injects
    its own checkpointer and store, and sandboxes come from the worker's provider.
    """
    redactor = Redactor(settings.pii_rules)
    system_prompt = settings.system_prompt
    sandbox: RunScopedSandbox | None = None
    if settings.sandbox != "off":
        provider = sandbox_provider
        rules = parse_rules(settings.sandbox_egress)
        sandbox = RunScopedSandbox(
            settings.sandbox,
            (lambda: provider) if provider else default_provider,
            egress=EgressPolicy(rules, dict(secrets or {})),
        )
        system_prompt += sandbox_prompt(settings, rules)

    def guardrails() -> list[AgentMiddleware[Any, Any, Any]]:
        return build_guardrails(settings, redactor=redactor, secrets=secrets)

    def mcp_tools() -> list[AgentMiddleware[Any, Any, Any]]:
        # Tools of the org's MCP servers: listed per run, with the run's user's token, through the
        # runtime's outbound guard; subagents get the same (they run in the same run and config).
        return [McpToolsMiddleware(settings.mcp_servers)] if settings.mcp_servers else []

    graph = create_deep_agent(
        model=make_chat_model(settings.model, secrets=secrets),
        tools=[*TOOLS, *connected_api_tools(settings.connected_apis)],
        system_prompt=system_prompt,
        # Planning: deepagents no longer adds the todo list by itself; `write_todos` keeps the plan in
        # the thread's state (`todos`), where chat UIs show it.
        middleware=[
            # First, so a spent budget pauses the run before any other hook or the model spends more.
            BudgetMiddleware(),
            TodoListMiddleware(),
            *guardrails(),
            *([SandboxFilesMiddleware(sandbox, settings)] if sandbox else []),
            *mcp_tools(),
        ],
        subagents=build_subagents(lambda: [BudgetMiddleware(), *guardrails(), *mcp_tools()]),
        memory=memory_sources(settings),
        # The org's and the assistant's skills (read-only store routes; deepagents lists them in the
        # prompt and the agent reads a skill's SKILL.md when it uses one).
        skills=skill_sources(),
        permissions=[*skill_permissions(), *build_permissions(settings)],
        backend=build_backend(sandbox, skill_routes()),
        interrupt_on={
            tool: InterruptOnConfig(allowed_decisions=["approve", "edit", "reject"])
            for tool in settings.interrupt_on
        }
        or None,
        context_schema=Context,
        checkpointer=checkpointer,
        store=store,
        name="agent",
    )
    return PIISafeGraph.wrap(graph, redactor) if redactor else graph
