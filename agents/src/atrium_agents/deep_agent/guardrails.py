"""The guardrail middleware an assistant's settings ask for, in the order they must wrap each other.

``create_deep_agent`` splices these after its own core stack and before approvals (HITL). Within
them, the first listed wraps the rest:

1. `PIIGuardMiddleware`, outermost, so whatever model (primary or fallback) answered, and whatever
   a retried tool finally returned, is scrubbed before the node writes it;
2. call limits, which end the run with a message instead of letting a runaway loop burn budget;
3. model fallback around model retry: the retry must re-raise (``on_failure="error"``), otherwise it
   turns the last failure into an AI message and the fallback never sees an exception;
4. tool retry, whose final failure becomes an error ToolMessage the model can react to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain.agents.middleware import (
    AgentMiddleware,
    ModelCallLimitMiddleware,
    ModelFallbackMiddleware,
    ModelRetryMiddleware,
    ToolCallLimitMiddleware,
    ToolRetryMiddleware,
)

from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.pii import PIIGuardMiddleware, Redactor
from atrium_agents.models.factory import make_chat_model


def build_guardrails(
    settings: Context, *, redactor: Redactor, secrets: Mapping[str, str] | None = None
) -> list[AgentMiddleware[Any, Any, Any]]:
    middleware: list[AgentMiddleware[Any, Any, Any]] = []
    if redactor:
        middleware.append(PIIGuardMiddleware(redactor))
    if settings.model_call_limit_per_run is not None or settings.model_call_limit_per_thread is not None:
        middleware.append(
            ModelCallLimitMiddleware(
                run_limit=settings.model_call_limit_per_run,
                thread_limit=settings.model_call_limit_per_thread,
                exit_behavior="end",
            )
        )
    if settings.tool_call_limit_per_run is not None or settings.tool_call_limit_per_thread is not None:
        middleware.append(
            ToolCallLimitMiddleware(
                run_limit=settings.tool_call_limit_per_run,
                thread_limit=settings.tool_call_limit_per_thread,
                exit_behavior="end",
            )
        )
    if settings.fallback_model:
        middleware.append(ModelFallbackMiddleware(make_chat_model(settings.fallback_model, secrets=secrets)))
    backoff: dict[str, Any] = {
        "initial_delay": settings.retry_initial_delay,
        "backoff_factor": settings.retry_backoff_factor,
        "max_delay": settings.retry_max_delay,
    }
    if settings.model_max_retries:
        # "error": a model that is still down fails the run (or reaches the fallback) instead of
        # answering with an apology the user might mistake for a reply.
        middleware.append(
            ModelRetryMiddleware(max_retries=settings.model_max_retries, on_failure="error", **backoff)
        )
    if settings.tool_max_retries:
        middleware.append(
            ToolRetryMiddleware(max_retries=settings.tool_max_retries, on_failure="continue", **backoff)
        )
    return middleware
