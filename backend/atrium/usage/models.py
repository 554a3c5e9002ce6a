"""Model usage (tokens and cost of every model call, per run) and the budgets that cap it.

Usage rows name the run, thread and assistant by id, not by foreign key: what was spent stays on the
books when a thread or an assistant is deleted (the org's deletion takes its rows with it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel


class ModelUsage(OrgOwnedModel):
    """What one attempt of a run spent on one model: written once when the attempt ends (a run handed
    back to another worker has a row per attempt). `input_tokens` includes `cached_input_tokens`, as
    providers report it; `cost` is None when the price table does not name the model."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    run_id = models.UUIDField()
    thread_id = models.UUIDField(null=True, blank=True)
    assistant_id = models.UUIDField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model = models.CharField(max_length=200)
    calls = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cached_input_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("org", "created_at"), name="usage_org_created"),
            models.Index(fields=("org", "user", "created_at"), name="usage_org_user_created"),
            models.Index(fields=("run_id",), name="usage_run"),
        ]
        verbose_name = "model usage"
        verbose_name_plural = "model usage"

    def __str__(self) -> str:
        return f"{self.model}: {self.input_tokens}+{self.output_tokens} tokens"


class BudgetPeriod(models.TextChoices):
    DAY = "day", "Day (UTC)"
    MONTH = "month", "Month (UTC)"


class BudgetMetric(models.TextChoices):
    TOKENS = "tokens", "Tokens (input + output)"
    COST = "cost", "Cost (price table's currency)"


class Budget(OrgOwnedModel):
    """A ceiling on the org's spend (`user` None) or one member's, per calendar period. When spent,
    new runs are refused and running ones stop at their next model call."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(max_length=8, choices=BudgetPeriod.choices)
    metric = models.CharField(max_length=8, choices=BudgetMetric.choices)
    # `limit` is an SQL keyword: the column is named so that raw SQL needs no quoting.
    limit = models.DecimalField(max_digits=20, decimal_places=8, db_column="limit_amount")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("user_id", "period", "metric")
        constraints = [
            models.UniqueConstraint(
                fields=("org", "user", "period", "metric"),
                name="usage_budget_unique",
                nulls_distinct=False,  # one org-wide budget per period and metric
            ),
            models.CheckConstraint(condition=models.Q(limit__gte=0), name="usage_budget_limit_nonnegative"),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else "org"
        return f"{who}: {self.limit} {self.metric} per {self.period}"
