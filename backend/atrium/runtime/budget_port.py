"""The budget port the runtime hands to graphs (``configurable["__atrium_budget"]``).

A graph asks it, before a model call, whether a budget of the run's org or of the run's user is
spent, so it can pause for the user (the deep agent interrupts) rather than be stopped by the
recorder's `BudgetExceeded` at the call. It wraps the attempt's `UsageRecorder`: the same query, the
same cache and the run's own unwritten calls, so the port and the backstop cannot disagree. Plain
dicts cross the boundary, with no figure the run's user may not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atrium.usage.recorder import UsageRecorder

BUDGET_CONFIGURABLE = "__atrium_budget"


class RuntimeBudget:
    """One attempt's port."""

    def __init__(self, recorder: UsageRecorder) -> None:
        self._recorder = recorder

    def __repr__(self) -> str:
        return f"RuntimeBudget(run={self._recorder.run_id})"

    async def spent(self) -> Mapping[str, Any] | None:
        """None while no budget is spent; else ``{"message", "scope": "org"|"member", "period":
        "day"|"month", "metric": "tokens"|"cost"}`` of the first spent one."""
        spent = self._recorder.spent_budget(await self._recorder.budget_states())
        if spent is None:
            return None
        self._recorder.count_stop(spent.state)
        state = spent.state
        return {
            "message": spent.message,
            "scope": "member" if state.user_id is not None else "org",
            "period": state.period,
            "metric": state.metric,
        }
