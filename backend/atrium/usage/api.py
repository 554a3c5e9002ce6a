"""Usage and budgets: a member's own usage; the org's, and its budgets, for org admins."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router

from atrium.usage.models import Budget
from atrium.usage.schemas import BudgetIn, BudgetOut, GroupBy, MyUsageOut, OrgUsageOut, Period
from atrium.usage.selectors import budget_list, usage_for_me, usage_for_org
from atrium.usage.services import budget_delete, budget_set

member_router = Router(tags=["usage"])
admin_router = Router(tags=["usage"])
PathStr = Annotated[str, Path()]


def _budget_out(budget: Budget) -> dict[str, Any]:
    return {
        "id": budget.id,
        "user_id": budget.user_id,
        "user_email": budget.user.email if budget.user is not None else "",
        "period": budget.period,
        "metric": budget.metric,
        "limit": float(budget.limit),
        "created_at": budget.created_at,
        "updated_at": budget.updated_at,
    }


@member_router.get("/usage/me", response=MyUsageOut)
def my_usage(request: HttpRequest, org: PathStr, period: Period = "month") -> dict[str, Any]:
    return usage_for_me(period=period)


@admin_router.get("/usage", response=OrgUsageOut)
def org_usage(
    request: HttpRequest, org: PathStr, group_by: GroupBy = "user", period: Period = "month"
) -> dict[str, Any]:
    return usage_for_org(period=period, group_by=group_by)


@admin_router.get("/budgets", response=list[BudgetOut])
def budgets(request: HttpRequest, org: PathStr) -> list[dict[str, Any]]:
    return [_budget_out(b) for b in budget_list()]


@admin_router.put("/budgets", response=BudgetOut)
def budget_put(request: HttpRequest, org: PathStr, payload: BudgetIn) -> dict[str, Any]:
    budget = budget_set(
        user_id=payload.user_id, period=payload.period, metric=payload.metric, limit=payload.limit
    )
    return _budget_out(Budget.objects.select_related("user").get(id=budget.id))


@admin_router.delete("/budgets/{budget_id}", response={204: None})
def budget_remove(request: HttpRequest, org: PathStr, budget_id: uuid.UUID) -> tuple[int, None]:
    budget_delete(budget_id=budget_id)
    return 204, None
