from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from atrium.assistants import services
from atrium.assistants.models import Assistant, AssistantVersion, OrgPolicy
from atrium.core.errors import AtriumError
from atrium.core.tenancy import scoped, system_scope
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_scope


class _VersionFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def add_fields(self, form: Any, index: int | None) -> None:
        # Each form's hidden pk field is built on the model's default manager, which is scoped; the
        # empty form is built while the page renders, after `changeform_view` left its scope (a 500 on
        # every assistant page of a superuser, who sees this inline). The field is hidden: the
        # queryset is never listed.
        with system_scope():
            super().add_fields(form, index)


class AssistantVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AssistantVersion
    formset = _VersionFormSet
    extra = 0
    can_delete = False
    fields = ("version", "name", "graph_id", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return AssistantVersion.unscoped.all()


class _ThroughServices(OrgScopedAdmin):
    """Saves go through the services, which check the policy and write the audit log as the API does;
    a refusal is shown on the form instead of saving."""

    def _save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> Any:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with scoped(admin_scope(request, obj.org_id)):
            saved = self._save(request, obj, form, change)
        obj.pk, obj.id = saved.pk, saved.id
        obj._state.adding = False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_page = self

        class ServiceForm(form_class):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                with system_scope():  # unique checks use the default, scoped manager
                    super()._post_clean()
                if self.errors:
                    return
                try:
                    admin_page.service_check(request, self.instance)
                except AtriumError as exc:
                    self.add_error(None, ValidationError(exc.message))

        return ServiceForm

    def service_check(self, request: HttpRequest, obj: Any) -> None:
        """Raise AtriumError if the save would be refused (run before saving, so the form shows it)."""


@admin.register(Assistant)
class AssistantAdmin(_ThroughServices):
    list_display = ("name", "graph_id", "org", "version", "audience", "updated_at")
    list_filter = ("graph_id", "org", "audience")
    search_fields = ("name", "graph_id", "id")
    readonly_fields = ("id", "version", "created_by", "created_at", "updated_at")
    inlines = (AssistantVersionInline,)

    def service_check(self, request: HttpRequest, obj: Assistant) -> None:
        with scoped(admin_scope(request, obj.org_id)):
            services.assistant_settings_check(
                graph_id=obj.graph_id, context=obj.context, config=obj.config, granted=obj.granted_secrets
            )

    def _save(self, request: HttpRequest, obj: Assistant, form: Any, change: bool) -> Assistant:
        versioned = {k: getattr(obj, k) for k in ("name", "description", "config", "context", "metadata")}
        if change:
            services.assistant_grants_set(
                assistant_id=obj.id, secrets=obj.granted_secrets, audience=obj.audience
            )
            return services.assistant_update(assistant_id=obj.id, graph_id=obj.graph_id, **versioned)
        created = services.assistant_create(
            graph_id=obj.graph_id, granted_secrets=obj.granted_secrets, **versioned
        )
        return services.assistant_grants_set(
            assistant_id=created.id, secrets=obj.granted_secrets, audience=obj.audience
        )


@admin.register(OrgPolicy)
class OrgPolicyAdmin(_ThroughServices):
    list_display = ("org", "updated_at")
    readonly_fields = ("updated_at",)

    def _save(self, request: HttpRequest, obj: OrgPolicy, form: Any, change: bool) -> OrgPolicy:
        return services.org_policy_set(egress_hosts=obj.egress_hosts)
