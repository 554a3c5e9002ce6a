"""Skills in the Django admin hold the API's rules: a bad SKILL.md is refused on the form and nothing is
saved, another org's assistants are not offered, and a saved skill goes through the service (audited,
and copied to the store the agent reads once the change commits)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from atrium.assistants.services import assistant_create
from atrium.audit.models import AuditEvent
from atrium.core.tenancy import scoped
from atrium.skills.models import Skill

pytestmark = pytest.mark.django_db

ADD = "/admin/skills/skill/add/"


def _form(org: Any, skill_md: str, **fields: Any) -> dict[str, Any]:
    return {"org": str(org.id), "assistant": "", "files": json.dumps({"SKILL.md": skill_md}), **fields}


def _md(name: str) -> str:
    return f"---\nname: {name}\ndescription: Writes release notes.\n---\n\nAnswer with the phrase ok.\n"


def test_the_admin_site_holds_the_skill_rules(
    client_for, admin, outsider, django_capture_on_commit_callbacks
):
    # given an org admin in the Django admin, and another org's assistant
    with scoped(outsider.scope()):
        theirs = assistant_create(graph_id="echo", name="Their secret assistant")
    page = client_for("admin")
    before = list(Skill.unscoped.values())

    # when they add a skill with a bad frontmatter, or for the other org's assistant
    bad = page.post(ADD, _form(admin.org, "---\nname: Not Valid\ndescription: x\n---\n"))
    foreign = page.post(ADD, _form(admin.org, _md("notes"), assistant=str(theirs.id)))

    # then the form says why and nothing is saved; the other org's assistant is not even offered
    assert bad.status_code == 200
    assert "lower-case letters" in bad.content.decode()
    assert foreign.status_code == 200
    assert "Their secret assistant" not in page.get(ADD).content.decode()
    assert list(Skill.unscoped.values()) == before

    # and a valid skill is saved through the service (audited, its mirror queued for the commit)
    with django_capture_on_commit_callbacks() as callbacks:
        saved = page.post(ADD, _form(admin.org, _md("release-notes")))
    assert saved.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", saved.content.decode(), re.S)
    row = Skill.unscoped.get(org=admin.org, name="release-notes")
    assert row.description == "Writes release notes."
    assert AuditEvent.unscoped.filter(action="skill.create", target_id=str(row.id)).count() == 1
    assert len(callbacks) == 1
