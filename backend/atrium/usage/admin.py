from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from atrium.core.tenancy import scoped
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_scope
from atrium.orgs.models import Membership
from atrium.usage.models import Budget, ModelUsage
from atrium.usage.services import budget_delete, budget_set


@admin.register(ModelUsage)
class ModelUsageAdmin(OrgScopedAdmin):
    """Read-only: rows are written by the runtime as runs end."""

    list_display = ("created_at", "org", "user", "model", "calls", "input_tokens", "output_tokens", "cost")
    list_filter = ("model", "org")
    search_fields = ("model", "user__email", "run_id", "thread_id", "assistant_id")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "org",
        "user",
        "run_id",
        "thread_id",
        "assistant_id",
        "model",
        "calls",
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "cost",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class BudgetForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Budget
        fields = ("org", "user", "period", "metric", "limit")

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        org, user = data.get("org"), data.get("user")
        if (
            org is not None
            and user is not None
            and not Membership.unscoped.filter(org=org, user=user).exists()
        ):
            self.add_error("user", "This user is not a member of the organisation.")
        return data


@admin.register(Budget)
class BudgetAdmin(OrgScopedAdmin):
    """The operator sets any org's budgets here; org admins theirs (as through the API)."""

    form = BudgetForm

    list_display = ("org", "user", "period", "metric", "limit", "updated_at")
    list_filter = ("period", "metric", "org")
    search_fields = ("user__email", "org__slug")
    fields = ("org", "user", "period", "metric", "limit")
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        # What a budget caps is fixed once made; its limit changes (or it is deleted and made anew).
        return ("org", "user", "period", "metric") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Budget, form: Any, change: bool) -> None:
        with scoped(admin_scope(request, obj.org_id)):
            saved = budget_set(user_id=obj.user_id, period=obj.period, metric=obj.metric, limit=obj.limit)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: Budget) -> None:
        with scoped(admin_scope(request, obj.org_id)):
            budget_delete(budget_id=obj.id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        for budget in queryset:
            self.delete_model(request, budget)
