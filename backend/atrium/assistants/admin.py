from __future__ import annotations

from django.contrib import admin

from atrium.assistants.models import Assistant, AssistantVersion
from atrium.orgs.admin_scope import OrgScopedAdmin


class AssistantVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AssistantVersion
    extra = 0
    can_delete = False
    fields = ("version", "name", "graph_id", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return AssistantVersion.unscoped.all()


@admin.register(Assistant)
class AssistantAdmin(OrgScopedAdmin):
    list_display = ("name", "graph_id", "org", "version", "updated_at")
    list_filter = ("graph_id", "org")
    search_fields = ("name", "graph_id", "id")
    readonly_fields = ("id", "version", "created_by", "created_at", "updated_at")
    inlines = (AssistantVersionInline,)
