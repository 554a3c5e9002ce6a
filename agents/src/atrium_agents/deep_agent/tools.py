"""Tools of the default agent, on top of deepagents' file tools and ``task``.

Each tool has an async body for the runtime's event loop and a sync twin for ``graph.invoke`` (a sync
worker): LangChain refuses to run an async-only tool synchronously.
"""

from __future__ import annotations

from langchain.tools import ToolRuntime
from langchain_core.tools import StructuredTool

from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.memory import scope_of


def _whoami(runtime: ToolRuntime[Context]) -> str:
    # ToolRuntime is injected by LangGraph and hidden from the schema the model sees.
    scope = scope_of(runtime.context)
    return f"user {scope.user_id} in org {scope.org_id}, talking to assistant {scope.assistant_id}"


async def _awhoami(runtime: ToolRuntime[Context]) -> str:
    return _whoami(runtime)


whoami = StructuredTool.from_function(
    func=_whoami,
    coroutine=_awhoami,
    name="whoami",
    description="Say which user, organisation and assistant this conversation belongs to.",
)

TOOLS = [whoami]
