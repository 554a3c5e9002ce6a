from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from atrium.accounts.models import User
from atrium.audit.services import audit_record
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_org_ids
from atrium.orgs.limits import org_limits_forget
from atrium.orgs.models import ApiKey, Membership, Organization, OrgSettings


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

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user" and not request.user.is_superuser:
            # The autocomplete offers the people of the admin's orgs (UserAdmin's queryset), but the
            # form would take any user id posted: an org admin could add, and so read the email of,
            # every account of the deployment. New people join by email, through the API.
            kwargs["queryset"] = User.objects.filter(
                id__in=Membership.unscoped.filter(org_id__in=admin_org_ids(request)).values("user_id")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            action="membership.role_change" if change else "membership.add",
            target_type="membership",
            target_id=obj.id,
            data={"email": obj.user.email, "role": obj.role, "via": "admin"},
            org_id=obj.org_id,
            actor_id=int(request.user.pk or 0) or None,
        )

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        audit_record(
            action="membership.remove",
            target_type="membership",
            target_id=obj.id,
            data={"email": obj.user.email, "role": obj.role, "via": "admin"},
            org_id=obj.org_id,
            actor_id=int(request.user.pk or 0) or None,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


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
        keys = list(queryset.filter(revoked_at__isnull=True))
        count = ApiKey.unscoped.filter(id__in=[key.id for key in keys]).update(revoked_at=timezone.now())
        for key in keys:
            audit_record(
                action="api_key.revoke",
                target_type="api_key",
                target_id=key.id,
                data={"name": key.name, "prefix": key.prefix, "via": "admin"},
                org_id=key.org_id,
                actor_id=int(request.user.pk or 0) or None,
            )
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


@admin.register(OrgSettings)
class OrgSettingsAdmin(OrgScopedAdmin):
    """Rate limits, concurrent-run cap and webhook policy of an org; blank limits use the deployment's
    defaults. Only superusers change them (`OrgSettings.OPERATOR_FIELDS`); org admins see them. The
    webhook secret itself is derived, never stored: admins read it over the API."""

    list_display = (
        "org",
        "api_requests_per_minute",
        "api_requests_per_minute_per_user",
        "runs_per_minute",
        "runs_per_minute_per_user",
        "max_concurrent_runs",
        "webhook_allow_private",
    )
    fields = (
        "org",
        "api_requests_per_minute",
        "api_requests_per_minute_per_user",
        "runs_per_minute",
        "runs_per_minute_per_user",
        "max_concurrent_runs",
        "webhook_allow_private",
        "webhook_secret_generation",
        "updated_at",
    )
    readonly_fields = ("webhook_secret_generation", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        fields = (*self.readonly_fields, "org") if obj is not None else self.readonly_fields
        if not request.user.is_superuser:  # quotas, caps and private webhooks are the operator's
            fields = (*fields, *OrgSettings.OPERATOR_FIELDS)
        return fields

    def save_model(self, request: HttpRequest, obj: OrgSettings, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        org_limits_forget(org_id=obj.org_id)  # this process at once; the others within the cache time
        audit_record(
            action="org_settings.change",
            target_type="org_settings",
            target_id=obj.id,
            data={name: form.cleaned_data.get(name) for name in form.changed_data if name != "org"},
            org_id=obj.org_id,
            actor_id=int(request.user.pk or 0) or None,
        )
