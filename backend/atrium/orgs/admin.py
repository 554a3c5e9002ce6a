from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from atrium.accounts.models import User
from atrium.audit.services import audit_record
from atrium.core.errors import AtriumError
from atrium.core.tenancy import Role, scoped
from atrium.orgs.access import access_revoked
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_org_ids, admin_scope
from atrium.orgs.limits import org_limits_forget
from atrium.orgs.models import ApiKey, Membership, Organization, OrgSettings
from atrium.orgs.services import (
    api_key_cache_clear,
    api_key_revoke,
    membership_remove,
    membership_update_role,
)


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
        if change and set(form.changed_data) == {"role"}:
            # Through the service, as the API: the last-admin rule, the audit event, the keys' epoch.
            try:
                with scoped(admin_scope(request, obj.org_id)):
                    membership_update_role(membership_id=str(obj.id), role=Role(obj.role))
            except AtriumError as exc:  # e.g. the org's last admin
                self.message_user(request, f"{obj.user.email}: {exc.message}", messages.ERROR)
            return
        super().save_model(request, obj, form, change)
        audit_record(
            action="membership.role_change" if change else "membership.add",
            target_type="membership",
            target_id=obj.id,
            data={"email": obj.user.email, "role": obj.role, "via": "admin"},
            org_id=obj.org_id,
            actor_id=int(request.user.pk or 0) or None,
        )
        if change:  # a lower role must not be outlived by keys verified under the old one
            access_revoked()
            transaction.on_commit(api_key_cache_clear)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        """Through the service, as the API: the member's keys, runs and streams end with them."""
        try:
            with scoped(admin_scope(request, obj.org_id)):
                membership_remove(membership_id=str(obj.id), via="admin")
        except AtriumError as exc:  # e.g. the org's last admin
            request._atrium_refused = True  # type: ignore[attr-defined]
            self.message_user(request, f"{obj.user.email}: {exc.message}", messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user"):
            self.delete_model(request, membership)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> Any:
        if getattr(request, "_atrium_refused", False):  # not "deleted successfully": it was not
            return HttpResponseRedirect(reverse("admin:orgs_membership_changelist"))
        return super().response_delete(request, obj_display, obj_id)


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
        for key in keys:  # through the service, as the API: every process stops honouring the key
            with scoped(admin_scope(request, key.org_id)):
                api_key_revoke(key_id=str(key.id), via="admin")
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


@admin.register(OrgSettings)
class OrgSettingsAdmin(OrgScopedAdmin):
    """Rate limits, concurrent-run cap and webhook policy of an org; blank limits use the deployment's
    defaults. Only superusers change them (`OrgSettings.OPERATOR_FIELDS`); org admins see them. The
    webhook secret itself is derived, never stored: admins read it over the API."""

    list_display = ("org", *OrgSettings.OPERATOR_FIELDS)
    fields = ("org", *OrgSettings.OPERATOR_FIELDS, "webhook_secret_generation", "updated_at")
    readonly_fields = ("webhook_secret_generation", "updated_at")

    # Deleting the row would drop the org back to the deployment's defaults, which may be higher than
    # the operator set: the row is the operator's to add and delete.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)

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
