"""Reading usage and budgets: a member their own, an org admin the org's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from atrium.accounts.models import User
from atrium.assistants.models import Assistant
from atrium.core.tenancy import Permission, current_scope
from atrium.usage.budgets import (
    BUDGET_SPEND_SQL,
    BudgetState,
    budget_params,
    period_start,
    spent_shown,
)
from atrium.usage.models import Budget, ModelUsage

_TOTALS: dict[str, Any] = {
    "calls": Sum("calls"),
    "input_tokens": Sum("input_tokens"),
    "output_tokens": Sum("output_tokens"),
    "cached_input_tokens": Sum("cached_input_tokens"),
    # Names unlike the fields': an annotation named `cost` would shadow the field in `priced`'s filter.
    "cost_sum": Sum("cost"),
    "priced": Count("id", filter=Q(cost__isnull=False)),
}


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    inputs, outputs = int(row["input_tokens"] or 0), int(row["output_tokens"] or 0)
    return {
        "calls": int(row["calls"] or 0),
        "input_tokens": inputs,
        "output_tokens": outputs,
        "cached_input_tokens": int(row["cached_input_tokens"] or 0),
        "total_tokens": inputs + outputs,
        "cost": float(row["cost_sum"]) if row["priced"] else None,
    }


def _since(period: str, now: dt.datetime | None = None) -> dt.datetime:
    return period_start(period, now or timezone.now())


def budget_states(*, user_id: int | None, now: dt.datetime | None = None) -> list[BudgetState]:
    """The budgets of the scope's org that apply to `user_id` (the org's and theirs), with what each
    period has spent: Postgres's figures, as the worker checks them."""
    params = budget_params(org_id=current_scope().org, user_id=user_id, now=now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(BUDGET_SPEND_SQL, params)
        return [BudgetState.from_row(row) for row in cursor.fetchall()]


def _assistant_names(ids: list[Any]) -> dict[Any, str]:
    """The names of the scope's org's assistants among `ids`; a deleted one is simply absent."""
    return dict(Assistant.objects.filter(id__in=[i for i in ids if i is not None]).values_list("id", "name"))


def usage_for_me(*, period: str) -> dict[str, Any]:
    """The calling member's usage this period, by model and by assistant, and the budgets that apply
    to them."""
    scope = current_scope()
    since = _since(period)
    # A scope without a user (none reaches here through the API) has no usage of its own.
    rows = ModelUsage.objects.filter(user_id=scope.user_id or 0, created_at__gte=since)
    per_model = rows.values("model").annotate(**_TOTALS).order_by("model")
    by_model = [{"model": row["model"], **_totals(dict(row))} for row in per_model]
    per_assistant = list(
        rows.values("assistant_id").annotate(**_TOTALS).order_by(F("assistant_id").asc(nulls_last=True))
    )
    names = _assistant_names([row["assistant_id"] for row in per_assistant])
    by_assistant = [
        {
            "assistant_id": row["assistant_id"],
            "name": names.get(row["assistant_id"], ""),
            # Usage rows outlive the assistant (they name it by id): say so rather than show a bare id.
            "deleted": row["assistant_id"] is not None and row["assistant_id"] not in names,
            **_totals(dict(row)),
        }
        for row in per_assistant
    ]
    budgets = []
    for state in budget_states(user_id=scope.user_id):
        spent = state.spent()
        # The org's spend is the org's admins' to see; a member learns only whether it is spent.
        shown = spent_shown(state, scope.role)
        budgets.append(
            {
                "id": state.budget_id,
                "scope": "user" if state.user_id is not None else "org",
                "period": state.period,
                "metric": state.metric,
                "limit": float(state.limit),
                "spent": float(spent) if shown else None,
                "exceeded": spent >= state.limit,
            }
        )
    return {
        "period": period,
        "since": since,
        "totals": _totals(rows.aggregate(**_TOTALS)),
        "by_model": by_model,
        "by_assistant": by_assistant,
        "budgets": budgets,
    }


def usage_for_org(*, period: str, group_by: str) -> dict[str, Any]:
    """The org's usage this period by user or by assistant: org admins only."""
    current_scope().require(Permission.MANAGE_ORG)
    since = _since(period)
    rows = ModelUsage.objects.filter(created_at__gte=since)
    field = "user_id" if group_by == "user" else "assistant_id"
    grouped: list[dict[str, Any]] = list(
        rows.values(field).annotate(**_TOTALS).order_by(F(field).asc(nulls_last=True))
    )
    keys = [row[field] for row in grouped if row[field] is not None]
    labels: dict[Any, str]
    if group_by == "user":
        labels = dict(User.objects.filter(id__in=keys).values_list("id", "email"))
    else:
        labels = _assistant_names(keys)
    return {
        "period": period,
        "since": since,
        "group_by": group_by,
        "totals": _totals(rows.aggregate(**_TOTALS)),
        "groups": [
            {"key": str(row[field] or ""), "label": labels.get(row[field], ""), **_totals(row)}
            for row in grouped
        ],
    }


def budget_list() -> QuerySet[Budget]:
    current_scope().require(Permission.MANAGE_ORG)
    return Budget.objects.select_related("user").order_by(
        F("user_id").asc(nulls_first=True), "period", "metric"
    )
