"""Budgets against spend: one query that reads a member's budgets (theirs and the org's) with what
has been spent in each budget's current period. Shared by the web process (refusing a run up front,
through Django's connection) and the worker (stopping a run at its next model call, through the
runtime's async pool): both are psycopg 3 with the same placeholders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atrium.core.errors import AtriumError
from atrium.core.tenancy import Permission, role_permissions
from atrium.usage.models import BudgetMetric, BudgetPeriod

# Every budget of the org and of the member, with its period's spend. A member's spend is the sum of
# their rows; the org's, of every row of the org. `input_tokens` includes cached ones.
BUDGET_SPEND_SQL = """
SELECT b.id, b.user_id, b.period, b.metric, b.limit_amount, s.tokens, s.cost
FROM usage_budget b
CROSS JOIN LATERAL (
    SELECT coalesce(sum(u.input_tokens + u.output_tokens), 0) AS tokens,
           coalesce(sum(u.cost), 0) AS cost
    FROM usage_modelusage u
    WHERE u.org_id = b.org_id
      AND (b.user_id IS NULL OR u.user_id = b.user_id)
      AND u.created_at >= CASE b.period WHEN 'day' THEN %(day)s ELSE %(month)s END
) s
WHERE b.org_id = %(org)s AND (b.user_id IS NULL OR b.user_id = %(user)s)
"""


def period_start(period: str, now: dt.datetime) -> dt.datetime:
    """The start (UTC) of the calendar period `now` falls in."""
    day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == BudgetPeriod.DAY else day.replace(day=1)


def period_end(period: str, now: dt.datetime) -> dt.datetime:
    start = period_start(period, now)
    if period == BudgetPeriod.DAY:
        return start + dt.timedelta(days=1)
    return (start + dt.timedelta(days=32)).replace(day=1)


def budget_params(*, org_id: Any, user_id: int | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "org": org_id,
        "user": user_id,
        "day": period_start(BudgetPeriod.DAY, now),
        "month": period_start(BudgetPeriod.MONTH, now),
    }


@dataclass(frozen=True)
class BudgetState:
    """One budget and what its period has spent so far."""

    budget_id: Any
    user_id: int | None
    period: str
    metric: str
    limit: Decimal
    spent_tokens: int
    spent_cost: Decimal

    @classmethod
    def from_row(cls, row: Sequence[Any] | Mapping[str, Any]) -> BudgetState:
        """A row of BUDGET_SPEND_SQL, as a tuple (Django's cursor) or a dict (the runtime's pool)."""
        values = tuple(row.values()) if isinstance(row, Mapping) else tuple(row)
        budget_id, user_id, period, metric, limit, tokens, cost = values
        return cls(budget_id, user_id, period, metric, Decimal(limit), int(tokens), Decimal(cost))

    def spent(self, *, extra_tokens: int = 0, extra_cost: Decimal = Decimal(0)) -> Decimal:
        if self.metric == BudgetMetric.TOKENS:
            return Decimal(self.spent_tokens + extra_tokens)
        return self.spent_cost + extra_cost

    def message(self, spent: Decimal | None) -> str:
        """The public message; `spent` None for a member who may not see it (`spent_shown`)."""
        whose = "your" if self.user_id is not None else "your organisation's"
        unit = "tokens" if self.metric == BudgetMetric.TOKENS else "in cost"
        period = "daily" if self.period == BudgetPeriod.DAY else "monthly"
        used = f" ({_figure(spent)} used this {self.period}, UTC)" if spent is not None else ""
        return (
            f"The {period} budget of {whose} model usage ({_figure(self.limit)} {unit}) is spent{used}. "
            f"Runs can start again when the {self.period} ends or an org admin raises the budget."
        )


def spent_shown(state: BudgetState, role: str | None) -> bool:
    """Whether a member of `role` may see what `state`'s period has spent: their own budget's, or the
    org's for org admins (the org's spend is every member's)."""
    return state.user_id is not None or Permission.MANAGE_ORG in role_permissions(role)


def _figure(value: Decimal) -> str:
    return f"{value.normalize():f}"


class BudgetExceeded(RuntimeError):
    """A budget is spent: raised at a run's next model call, so the run ends with
    `{"error": "BudgetExceeded", "message": ...}` (a RuntimeError: its message is public)."""


class BudgetExceededError(AtriumError):
    """A new run refused up front because a budget is spent."""

    status_code = 429
    code = "budget_exceeded"


def first_exceeded(
    states: list[BudgetState], *, extra_tokens: int = 0, extra_cost: Decimal = Decimal(0)
) -> BudgetState | None:
    """The first budget spent (reached or passed), counting `extra` not yet recorded; None if none."""
    for state in sorted(states, key=lambda s: (s.user_id is None, s.period, s.metric)):
        if state.spent(extra_tokens=extra_tokens, extra_cost=extra_cost) >= state.limit:
            return state
    return None
