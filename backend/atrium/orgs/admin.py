from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from atrium.orgs.admin_scope import OrgScopedAdmin, admin_org_ids
from atrium.orgs.models import ApiKey, Membership, Organization


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdmin):
    org_field = "id"
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")
    readonly_fields = ("id", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = Organization.objects.all()
        if request.user.is_superuser:
            return queryset
        return queryset.filter(id__in=admin_org_ids(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Membership)
class MembershipAdmin(OrgScopedAdmin):
    list_display = ("user", "org", "role", "created_at")
    list_filter = ("role", "org")
    search_fields = ("user__email", "org__slug")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(ApiKey)
class ApiKeyAdmin(OrgScopedAdmin):
    """Keys are created with the API or `make apikey` (the secret is shown once there); here they are
    listed and revoked. The stored digest is never displayed."""

    list_display = ("name", "prefix", "user", "org", "created_at", "last_used_at", "revoked_at")
    list_filter = ("org",)
    search_fields = ("name", "prefix", "user__email")
    fields = ("name", "prefix", "user", "org", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "user", "org", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)
