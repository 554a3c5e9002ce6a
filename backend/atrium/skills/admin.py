"""Admin pages for skills: saved and deleted through the services, so the SKILL.md checks, the size
limits, the audit log and the copy the agent reads hold here as in the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from atrium.assistants.models import Assistant
from atrium.core.errors import AtriumError
from atrium.core.tenancy import scoped
from atrium.orgs.admin_scope import OrgScopedAdmin, admin_org_ids, admin_scope
from atrium.skills import services
from atrium.skills.models import Skill


class SkillForm(forms.ModelForm):  # type: ignore[type-arg]
    # Declared: the model's default manager is org-scoped; the admin narrows the choices per request.
    assistant = forms.ModelChoiceField(queryset=Assistant.unscoped.none(), required=False)

    class Meta:
        model = Skill
        fields = ("org", "assistant", "files")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        org, assistant = cleaned.get("org") or getattr(self.instance, "org", None), cleaned.get("assistant")
        if org is not None and assistant is not None and assistant.org_id != org.id:
            self.add_error("assistant", "Choose one of this org's assistants.")
        try:
            name, _, _ = services.skill_files_check(cleaned.get("files") or {})
        except AtriumError as exc:
            raise ValidationError(exc.message) from None
        if not self.instance._state.adding and name != self.instance.name:
            raise ValidationError(f"SKILL.md: name must stay {self.instance.name!r}.")
        return cleaned


@admin.register(Skill)
class SkillAdmin(OrgScopedAdmin):
    form = SkillForm
    list_display = ("name", "org", "assistant", "description", "updated_at")
    list_filter = ("org",)
    search_fields = ("name", "description")
    # Name and description come from SKILL.md's frontmatter.
    fields = ("org", "assistant", "name", "description", "files")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("org", "assistant", "name", "description") if obj is not None else ("name", "description")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "assistant" in form.base_fields:
            assistants = Assistant.unscoped.order_by("name")
            if not request.user.is_superuser:
                assistants = assistants.filter(org_id__in=admin_org_ids(request))
            form.base_fields["assistant"].queryset = assistants  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Skill, form: Any, change: bool) -> None:
        files = form.cleaned_data["files"]
        with scoped(admin_scope(request, obj.org_id)):
            if change:
                saved = services.skill_update(name=obj.name, files=files, assistant_id=obj.assistant_id)
            else:
                saved = services.skill_create(files=files, assistant_id=obj.assistant_id)
        obj.pk, obj.id, obj.name = saved.pk, saved.id, saved.name
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Skill) -> None:
        with scoped(admin_scope(request, obj.org_id)):
            services.skill_delete(name=obj.name, assistant_id=obj.assistant_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Skill]) -> None:
        for skill in queryset:
            self.delete_model(request, skill)
