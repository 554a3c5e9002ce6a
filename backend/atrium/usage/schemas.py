from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from atrium.usage.models import BudgetMetric, BudgetPeriod

Period = Literal["day", "month"]
GroupBy = Literal["user", "assistant"]


class UsageTotalsOut(Schema):
    calls: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    total_tokens: int
    cost: float | None = Field(description="None when no call was of a model the price table names.")


class ModelUsageOut(UsageTotalsOut):
    model: str


class AssistantUsageOut(UsageTotalsOut):
    assistant_id: uuid.UUID | None = Field(description="None for usage of no assistant.")
    name: str = Field(description="The assistant's name ('' when deleted or none).")
    deleted: bool = Field(description="The assistant has been deleted since; its usage still counts.")


class BudgetStatusOut(Schema):
    id: uuid.UUID
    scope: Literal["org", "user"]
    period: BudgetPeriod
    metric: BudgetMetric
    limit: float
    spent: float | None = Field(description="The org's spend is shown to its admins only.")
    exceeded: bool


class MyUsageOut(Schema):
    period: Period
    since: datetime
    totals: UsageTotalsOut
    by_model: list[ModelUsageOut]
    by_assistant: list[AssistantUsageOut]
    budgets: list[BudgetStatusOut]


class UsageGroupOut(UsageTotalsOut):
    key: str = Field(description="The user's id or the assistant's id.")
    label: str = Field(description="The user's email or the assistant's name ('' once deleted).")


class OrgUsageOut(Schema):
    period: Period
    since: datetime
    group_by: GroupBy
    totals: UsageTotalsOut
    groups: list[UsageGroupOut]


class BudgetIn(Schema):
    user_id: int | None = Field(default=None, description="A member's budget; omitted: the whole org's.")
    period: BudgetPeriod
    metric: BudgetMetric
    limit: Decimal = Field(ge=0, max_digits=20, decimal_places=8)


class BudgetOut(Schema):
    id: uuid.UUID
    user_id: int | None
    user_email: str
    period: BudgetPeriod
    metric: BudgetMetric
    limit: float
    created_at: datetime
    updated_at: datetime
