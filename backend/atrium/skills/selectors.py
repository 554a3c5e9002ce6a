"""Reads on skills: any member of the org may read them (the agent shows them to everyone it serves)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from atrium.assistants.selectors import assistant_get
from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Permission, current_scope
from atrium.skills.models import Skill


def skill_list(*, assistant_id: uuid.UUID | None = None) -> QuerySet[Skill]:
    """The org's skills, or one assistant's (404 when the caller cannot see that assistant)."""
    current_scope().require(Permission.READ)
    if assistant_id is None:
        return Skill.objects.filter(assistant__isnull=True).order_by("name")
    return Skill.objects.filter(assistant_id=assistant_get(assistant_id=assistant_id).id).order_by("name")


def skill_get(*, name: str, assistant_id: uuid.UUID | None = None) -> Skill:
    if "\x00" in name:  # no skill has one, and the database refuses to compare it
        raise NotFoundError("Skill not found.")
    skill = skill_list(assistant_id=assistant_id).filter(name=name).first()
    if skill is None:
        raise NotFoundError("Skill not found.")
    return skill
