from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from atrium.assistants.models import Assistant
from atrium.core.errors import AtriumError
from atrium.core.http import redacted_url
from atrium.core.tenancy import Role, Scope, scoped
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_org_ids
from atrium.runtime.models import Cron, Run, Thread, WebhookDelivery
from atrium.runtime.services import lifecycle
from atrium.runtime.services.threads import thread_delete
from atrium.runtime.services.webhooks import webhook_redeliver


@admin.register(Thread)
class ThreadAdmin(OrgScopedAdmin):
    list_display = ("id", "org", "owner", "graph_id", "status", "updated_at")
    list_filter = ("status", "graph_id", "org")
    search_fields = ("id", "owner__email")
    readonly_fields = (
        "id",
        "org",
        "owner",
        "status",
        "values",
        "next",
        "interrupts",
        "error",
        "graph_id",
        "assistant_id",
        "created_at",
        "updated_at",
        "state_updated_at",
    )
    fields = (
        "id",
        "org",
        "owner",
        "metadata",
        "status",
        "graph_id",
        "assistant_id",
        "values",
        "next",
        "interrupts",
        "error",
        "ttl_minutes",
        "ttl_strategy",
        "expires_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Thread) -> None:
        """Through the service, as the API: the thread's checkpoints go with it and its runs stop."""
        try:
            with scoped(Scope(user_id=int(request.user.pk or 0), org_id=obj.org_id, role=Role.ADMIN)):
                thread_delete(thread_id=obj.id)
        except AtriumError as exc:
            self.message_user(request, f"{obj.id}: {exc.message}", messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        for thread in queryset:
            self.delete_model(request, thread)


class AssistantFilter(admin.SimpleListFilter):
    """Runs by assistant, named, among the assistants of the orgs this admin may see."""

    title = "assistant"
    parameter_name = "assistant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        assistants = Assistant.unscoped.order_by("name")
        if not request.user.is_superuser:
            assistants = assistants.filter(org_id__in=admin_org_ids(request))
        return [(str(a.id), f"{a.name} ({a.graph_id})") for a in assistants[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(assistant_id=value) if value else queryset


@admin.register(Run)
class RunAdmin(OrgScopedAdmin):
    """The operator's dashboard of runs: filter by status, org and assistant; cancel active runs and
    retry finished ones through the runtime's services (the same paths as the API). Each action runs
    in the run's org with the admin role: the queryset holds only runs this admin may see."""

    list_display = ("id", "org", "thread", "assistant_name", "status", "attempt", "created_at", "ended_at")
    list_filter = ("status", "org", AssistantFilter)
    search_fields = ("id", "thread__id")
    actions = ("cancel_runs", "retry_runs")
    readonly_fields = (
        "id",
        "org",
        "thread",
        "assistant_id",
        "user",
        "status",
        "metadata",
        "kwargs",
        "multitask_strategy",
        "attempt",
        "result",
        "error",
        "started_at",
        "ended_at",
        "checkpoint_start",
        "checkpoint_end",
        "call_counts",
        "lease_owner",
        "lease_expires_at",
        "fence",
        "created_at",
        "updated_at",
    )
    exclude = ("idempotency_key", "cancel_action", "not_before")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        names = Assistant.unscoped.filter(id=OuterRef("assistant_id")).values("name")[:1]
        queryset: QuerySet[Any] = super().get_queryset(request).select_related("org")
        annotated: QuerySet[Any] = queryset.annotate(_assistant=Subquery(names))
        return annotated

    @admin.display(description="assistant")
    def assistant_name(self, obj: Run) -> str:
        return str(getattr(obj, "_assistant", None) or obj.assistant_id)

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Run], verb: str, act: Any, *, as_run_user: bool
    ) -> None:
        done, refused = 0, []
        for run in queryset:
            user_id = run.user_id if as_run_user else int(request.user.pk or 0)
            try:
                with scoped(Scope(user_id=user_id, org_id=run.org_id, role=Role.ADMIN)):
                    act(run)
                done += 1
            except AtriumError as exc:
                refused.append(f"{run.id}: {exc.message}")
        if done:
            self.message_user(request, f"{verb} {done} run(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        self._each(
            request,
            queryset,
            "Cancelled",
            lambda run: lifecycle.cancel(thread_id=run.thread_id, run_id=run.id),
            as_run_user=False,
        )

    @admin.action(description="Retry the selected runs (a new run of the same request)")
    def retry_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        # The new run acts as the old run's user (their memories, their credentials), as the API's
        # retry by that user would; the admin's right to do it was checked by the queryset.
        self._each(request, queryset, "Retried", lambda run: lifecycle.retry(run_id=run.id), as_run_user=True)


@admin.register(Cron)
class CronAdmin(OrgScopedAdmin):
    """Crons are made and changed through the API (which keeps `next_run_date` right); here operators
    see them and may delete a runaway one."""

    list_display = ("id", "org", "user", "schedule", "timezone", "enabled", "next_run_date", "end_time")
    list_filter = ("enabled", "org")
    search_fields = ("id", "user__email", "thread__id")
    readonly_fields = (
        "id",
        "org",
        "user",
        "assistant_id",
        "thread",
        "schedule",
        "timezone",
        "end_time",
        "enabled",
        "on_run_completed",
        "payload",
        "metadata",
        "next_run_date",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrgScopedAdmin):
    """The delivery log. Read-only; a failed or refused delivery can be sent again. The URL is shown
    without its query string, which may carry a token."""

    list_display = (
        "created_at",
        "org",
        "run_id",
        "destination",
        "run_status",
        "status",
        "attempts",
        "response_status",
        "delivered_at",
    )
    list_filter = ("status", "run_status", "org")
    search_fields = ("run_id", "thread_id")
    fields = (
        "id",
        "org",
        "run_id",
        "thread_id",
        "destination",
        "run_status",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
    )
    readonly_fields = fields
    actions = ("redeliver",)

    @admin.display(description="URL")
    def destination(self, obj: WebhookDelivery) -> str:
        return redacted_url(obj.url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Deliver the selected webhooks again")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhook_redeliver(delivery_ids=[d.id for d in queryset])
        self.message_user(request, f"Sent {count} webhook(s) again.", messages.SUCCESS)
