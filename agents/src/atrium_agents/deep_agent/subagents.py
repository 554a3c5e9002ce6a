"""Subagents the ``task`` tool can start. Each runs as a nested graph inside the ``tools`` node, so its
events stream under the ``tools:<task_id>`` namespace that ``useStream`` routes to subagent views.

Both specs carry their own budget check, guardrails and the assistant's MCP tools
(``graph.build_agent`` makes the stack): deepagents gives a subagent only the middleware in its spec,
and the general-purpose one it would add by itself would carry none of ours. The MCP tools are the
main agent's, with the same rules: listed and called in the same run, with the run's user's token (a
consent interrupt from a subagent pauses the whole run), and through the runtime's outbound guard
(``deep_agent/mcp.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deepagents import SubAgent
from deepagents.middleware.subagents import GENERAL_PURPOSE_SUBAGENT
from langchain.agents.middleware import AgentMiddleware

from atrium_agents.deep_agent.prompts import RESEARCHER_DESCRIPTION, RESEARCHER_PROMPT


def build_subagents(middleware: Callable[[], list[AgentMiddleware[Any, Any, Any]]]) -> list[SubAgent]:
    """Subagent specs; ``middleware`` makes a fresh stack (guardrails, MCP tools) for each."""
    return [
        SubAgent(
            name="researcher",
            description=RESEARCHER_DESCRIPTION,
            system_prompt=RESEARCHER_PROMPT,
            middleware=middleware(),
        ),
        SubAgent(
            name=GENERAL_PURPOSE_SUBAGENT["name"],
            description=GENERAL_PURPOSE_SUBAGENT["description"],
            system_prompt=GENERAL_PURPOSE_SUBAGENT["system_prompt"],
            middleware=middleware(),
        ),
    ]
