"""Admin pages for MCP servers: saved through the services, so the URL rules, the stdio switch and
the audit log hold here as in the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from atrium.core.errors import AtriumError
from atrium.core.tenancy import scoped, system_scope
from atrium.credentials.models import OAuthProvider
from atrium.mcp_servers import services
from atrium.mcp_servers.models import McpServer
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_org_ids, admin_scope


class McpServerForm(forms.ModelForm):  # type: ignore[type-arg]
    # Declared: the model's default manager is org-scoped; the admin narrows the choices per request.
    oauth_provider = forms.ModelChoiceField(queryset=OAuthProvider.unscoped.none(), required=False)

    class Meta:
        model = McpServer
        fields = ("org", "name", "transport", "url", "command", "oauth_provider", "scopes", "enabled")

    def _post_clean(self) -> None:
        with system_scope():  # the unique check reads through the scoped manager
            super()._post_clean()  # type: ignore[misc]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        org, provider = cleaned.get("org"), cleaned.get("oauth_provider")
        if org is not None and provider is not None and provider.org_id != org.id:
            self.add_error("oauth_provider", "Choose one of this org's OAuth providers.")
        try:
            services.mcp_server_endpoint_check(
                transport=cleaned.get("transport") or "",
                url=cleaned.get("url") or "",
                command=cleaned.get("command") or [],
            )
        except AtriumError as exc:
            # The rules the service holds (a public URL, stdio only where allowed), said on the page.
            raise ValidationError(exc.message) from None
        return cleaned


@admin.register(McpServer)
class McpServerAdmin(OrgScopedAdmin):
    form = McpServerForm
    list_display = ("name", "org", "transport", "url", "oauth_provider", "enabled", "updated_at")
    list_filter = ("org", "transport", "enabled")
    search_fields = ("name", "url")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("org", "name") if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        providers = OAuthProvider.unscoped.select_related("org").order_by("slug")
        if not request.user.is_superuser:
            # Not every org's providers by name: those of the orgs this admin administers.
            providers = providers.filter(org_id__in=admin_org_ids(request))
        form.base_fields["oauth_provider"].queryset = providers  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: McpServer, form: Any, change: bool) -> None:
        data = form.cleaned_data
        provider = data.get("oauth_provider")
        fields = {
            "transport": data["transport"],
            "url": data.get("url") or "",
            "command": data.get("command") or [],
            "oauth_provider": provider.slug if provider else None,
            "scopes": data.get("scopes") or [],
            "enabled": data["enabled"],
        }
        with scoped(admin_scope(request, obj.org_id)):
            if change:
                saved = services.mcp_server_update(server_id=obj.id, **fields)
            else:
                saved = services.mcp_server_create(name=obj.name, **fields)
        obj.pk, obj.id = saved.pk, saved.id
        obj._state.adding = False
