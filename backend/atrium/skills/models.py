"""Skills of an org or of one assistant: a folder with `SKILL.md` and scripts (docs/skills.md).

The rows are the truth builders edit; each committed change is mirrored into the org's store
partition (`atrium.skills.services.skill_mirror`), where the deep agent reads them read-only.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel


class Skill(OrgOwnedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # None: every assistant of the org has it; otherwise this assistant only (its copy wins on a name).
    assistant = models.ForeignKey(
        "assistants.Assistant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=64, help_text="The `name` of SKILL.md's frontmatter.")
    description = models.TextField(help_text="The `description` of SKILL.md's frontmatter.")
    files = models.JSONField(help_text='Path in the skill\'s folder → text, e.g. {"SKILL.md": "---\\n…"}.')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=("org", "name"), condition=Q(assistant__isnull=True), name="skill_unique_org_name"
            ),
            models.UniqueConstraint(fields=("org", "assistant", "name"), name="skill_unique_assistant_name"),
        ]
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
