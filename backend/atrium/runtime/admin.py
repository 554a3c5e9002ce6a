from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from atrium.core.http import redacted_url
from atrium.orgs.admin_scope import OrgScopedAdmin
from atrium.runtime.models import Cron, Run, Thread, WebhookDelivery
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


@admin.register(Run)
class RunAdmin(OrgScopedAdmin):
    """Runs are made through the API; here operators see them (status, attempts, errors)."""

    list_display = ("id", "org", "thread", "status", "attempt", "created_at", "ended_at")
    list_filter = ("status", "org")
    search_fields = ("id", "thread__id")
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
