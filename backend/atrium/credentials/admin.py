"""Admin pages: secrets are write-only (a password field that never renders a value), tokens are
never shown, only that they exist."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from atrium.core.tenancy import scoped, system_scope
from atrium.credentials import services
from atrium.credentials.models import OAuthAuthorization, OAuthConnection, OAuthProvider, WorkspaceSecret
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_scope

MASK = "••••••••"


class _ScopedModelForm(forms.ModelForm):  # type: ignore[type-arg]
    """Model validation checks unique constraints through the default (org-scoped) manager; the
    admin is an entry point that filters explicitly, so that check runs in the system scope."""

    def _post_clean(self) -> None:
        with system_scope():
            super()._post_clean()  # type: ignore[misc]


class WorkspaceSecretForm(_ScopedModelForm):
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Write-only. Leave empty to keep the current value.",
    )

    class Meta:
        model = WorkspaceSecret
        fields = ("org", "name", "description")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.instance._state.adding and not cleaned.get("value"):
            self.add_error("value", "A new secret needs a value.")
        return cleaned


@admin.register(WorkspaceSecret)
class WorkspaceSecretAdmin(OrgScopedAdmin):
    form = WorkspaceSecretForm
    list_display = ("name", "org", "masked_value", "updated_at")
    list_filter = ("org",)
    search_fields = ("name",)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        return ("org", "name") if obj is not None else ()

    @admin.display(description="value")
    def masked_value(self, obj: WorkspaceSecret) -> str:
        return MASK

    def save_model(self, request: HttpRequest, obj: WorkspaceSecret, form: Any, change: bool) -> None:
        value = form.cleaned_data.get("value")
        with scoped(admin_scope(request, obj.org_id)):
            if value:
                saved = services.workspace_secret_set(name=obj.name, value=value, description=obj.description)
            else:
                WorkspaceSecret.objects.filter(id=obj.id).update(description=obj.description)
                saved = WorkspaceSecret.objects.get(id=obj.id)
        obj.pk, obj.id = saved.pk, saved.id
        obj._state.adding = False


class OAuthProviderForm(_ScopedModelForm):
    client_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Write-only. Leave empty to keep the current secret.",
    )

    class Meta:
        model = OAuthProvider
        fields = (
            "org",
            "slug",
            "name",
            "authorize_url",
            "token_url",
            "revocation_url",
            "client_id",
            "default_scopes",
            "api_base_urls",
        )


@admin.register(OAuthProvider)
class OAuthProviderAdmin(OrgScopedAdmin):
    form = OAuthProviderForm
    list_display = ("slug", "name", "org", "client_id", "masked_secret", "created_at")
    list_filter = ("org",)
    search_fields = ("slug", "name")

    @admin.display(description="client secret")
    def masked_secret(self, obj: OAuthProvider) -> str:
        return MASK if obj.sealed_client_secret is not None else "—"

    def save_model(self, request: HttpRequest, obj: OAuthProvider, form: Any, change: bool) -> None:
        data = form.cleaned_data
        # Every field of the form but the row's identity (org and slug are set at creation).
        fields = {k: data[k] for k in OAuthProviderForm.Meta.fields if k not in ("org", "slug")}
        secret = data.get("client_secret") or None
        with scoped(admin_scope(request, obj.org_id)):
            if change:
                saved = services.oauth_provider_update(provider_id=obj.id, client_secret=secret, **fields)
            else:
                saved = services.oauth_provider_create(slug=obj.slug, client_secret=secret, **fields)
        obj.pk, obj.id = saved.pk, saved.id
        obj._state.adding = False


@admin.register(OAuthConnection)
class OAuthConnectionAdmin(OrgScopedAdmin):
    """Which connections exist; the tokens never appear. Deleting one disconnects it here only."""

    list_display = ("user", "provider", "org", "status", "masked_token", "expires_at", "refreshed_at")
    list_filter = ("org", "status")
    search_fields = ("user__email", "provider__slug")
    fields = (
        "user",
        "provider",
        "org",
        "scopes",
        "status",
        "masked_token",
        "expires_at",
        "refreshed_at",
        "last_error",
    )
    readonly_fields = fields

    @admin.display(description="tokens")
    def masked_token(self, obj: OAuthConnection) -> str:
        return MASK

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(OAuthAuthorization)
class OAuthAuthorizationAdmin(OrgScopedAdmin):
    """Consents in flight (ten minutes each); read-only, the PKCE verifier is never shown."""

    list_display = ("user", "provider", "org", "created_at", "expires_at", "used_at")
    list_filter = ("org",)
    fields = ("user", "provider", "org", "scopes", "resume_thread_id", "created_at", "expires_at", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
