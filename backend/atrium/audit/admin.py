from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from atrium.audit.models import AuditEvent
from atrium.orgs.admin_scope import OrgScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(OrgScopedAdmin):
    """Read-only: the log is written by the services, never edited."""

    list_display = ("created_at", "action", "actor_email", "target_type", "target_id", "org")
    list_filter = ("action", "org")
    search_fields = ("action", "actor_email", "target_id")
    fields = ("created_at", "org", "action", "actor", "actor_email", "target_type", "target_id", "data")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
