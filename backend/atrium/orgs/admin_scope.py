"""Tenancy for the Django admin: superusers see every org; an org admin sees only their orgs' rows."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from atrium.core.tenancy import Role, Scope, system_scope
from atrium.orgs.models import Membership


def admin_org_ids(request: HttpRequest) -> set[uuid.UUID]:
    """The orgs this admin user administers, computed once per request."""
    cached: set[uuid.UUID] | None = getattr(request, "_atrium_admin_org_ids", None)
    if cached is None:
        cached = set(
            Membership.unscoped.filter(user_id=int(request.user.pk or 0), role=Role.ADMIN).values_list(
                "org_id", flat=True
            )
        )
        request._atrium_admin_org_ids = cached  # type: ignore[attr-defined]
    return cached


def admin_scope(request: HttpRequest, org_id: Any) -> Scope:
    """The scope an admin page acts in for one org's row: the services then check and audit as for the
    API (the page already checked that the user administers that org, or is a superuser)."""
    return Scope(user_id=int(request.user.pk or 0), org_id=org_id, role=Role.ADMIN)


def is_org_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and admin_org_ids(request))


class OrgScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """ModelAdmin for org-owned models. Admin pages are an entry point, so they filter explicitly."""

    org_field = "org_id"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = self.model.unscoped.all()
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.org_field}__in": admin_org_ids(request)})

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        # Django's filter on a foreign key offers every row of the related table: every org of the
        # deployment, by name. An org admin is offered the orgs of the rows they may see.
        return tuple((f, admin.RelatedOnlyFieldListFilter) if f == "org" else f for f in filters)

    def _may(self, request: HttpRequest, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        if not is_org_admin(request):
            return False
        return obj is None or getattr(obj, self.org_field) in admin_org_ids(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may(request, None)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may(request, obj)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        # Form validation checks unique constraints through the model's default manager, which needs a
        # scope; uniqueness is global, so it runs in a system scope. What the page shows and may change
        # is still filtered explicitly (get_queryset, the permissions above).
        with system_scope():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "org" and not request.user.is_superuser:
            from atrium.orgs.models import Organization

            kwargs["queryset"] = Organization.objects.filter(id__in=admin_org_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
