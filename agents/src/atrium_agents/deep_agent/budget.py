"""Pausing for a spent budget: before each model call (the main agent's and each subagent's), the
deep agent asks the runtime's budget port (``configurable["__atrium_budget"]``) whether a budget of
the run's org or user is spent, and if so interrupts with
``{"type": "budget_exceeded", "message", "scope": "org"|"member", "period", "metric"}``.

The user sees why and that an org admin can raise the budget; resuming asks again: still spent, the
same interrupt; raised (or the period over), the model call goes ahead. The runtime's own check at
the model call (which ends the run with ``BudgetExceeded``) stays as the backstop, for other graphs
and for a budget spent between this check and the call. Without a port (a graph run outside Atrium)
nothing is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from langchain.agents.middleware import AgentMiddleware
from langchain.agents.middleware.types import ModelCallResult, ModelRequest, ModelResponse
from langgraph.config import get_config
from langgraph.types import interrupt

BUDGET_KEY = "__atrium_budget"
BUDGET_INTERRUPT = "budget_exceeded"


class BudgetPort(Protocol):
    """What the runtime provides: ``spent()`` answers None, or ``{"message", "scope", "period",
    "metric"}`` of the first spent budget (its message holds only figures the user may see)."""

    async def spent(self) -> Mapping[str, Any] | None: ...


def budget_port(config: Mapping[str, Any] | None) -> BudgetPort | None:
    return ((config or {}).get("configurable") or {}).get(BUDGET_KEY)


class BudgetMiddleware(AgentMiddleware[Any, Any, Any]):
    """Interrupts at the start of a model call while a budget is spent. It wraps the call (outermost)
    instead of adding a `before_model` node: a node of its own would be one more step, and so one
    more durable checkpoint, for every model turn of every run; an interrupt here happens before the
    model is called, so a resume replays nothing that was paid for."""

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelCallResult:
        port = budget_port(get_config())
        if port is not None:
            # On resume the model node runs again from its start: each interrupt already answered
            # returns its resume value, so the loop asks the port once per resume and interrupts
            # anew while spent.
            while (spent := await port.spent()) is not None:
                interrupt({"type": BUDGET_INTERRUPT, **dict(spent)})
        return await handler(request)

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelCallResult:
        # The runtime runs graphs asynchronously (above); a synchronous run has no port to wait on
        # here and is held to the budget by the runtime's check at the model call.
        return handler(request)
