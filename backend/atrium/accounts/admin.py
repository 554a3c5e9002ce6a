from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from atrium.accounts.models import ExternalIdentity, User
from atrium.accounts.services import user_sign_in
from atrium.core.errors import AtriumError
from atrium.core.ratelimit import RateLimitedError
from atrium.orgs.access import access_revoked
from atrium.orgs.admin_scope import admin_org_ids, is_org_admin
from atrium.orgs.models import Membership


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login, through the same throttled sign-in as the API (`user_sign_in`)."""

    def clean(self) -> dict[str, Any]:
        if self.request is None:  # the admin always passes its request; without one, Django's own
            return super().clean()
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = user_sign_in(request=self.request, email=email, password=password)
            except RateLimitedError as exc:
                raise ValidationError(exc.message, code="throttled") from exc
            except AtriumError as exc:
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    """Superusers manage every account; an org admin sees (read-only) the people in their orgs."""

    ordering = ("email",)
    list_display = ("email", "name", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "name")
    list_filter = ("is_staff", "is_superuser", "is_active")
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        member_ids = Membership.unscoped.filter(org_id__in=admin_org_ids(request)).values("user_id")
        return queryset.filter(id__in=member_ids)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser) or is_org_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser) or is_org_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            access_revoked()  # their keys and open streams end in every process

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        super().delete_model(request, obj)
        access_revoked()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        super().delete_queryset(request, queryset)
        access_revoked()


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Single sign-on links, for superusers: read-only; deleting one unlinks it (the next sign-in links
    again by verified email, or is refused)."""

    list_display = ("user", "provider", "subject", "issuer", "created_at", "last_login_at")
    search_fields = ("user__email", "subject", "issuer")
    list_filter = ("provider",)
    readonly_fields = ("user", "provider", "issuer", "subject", "created_at", "last_login_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)
