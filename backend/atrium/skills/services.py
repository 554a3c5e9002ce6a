"""Writes on skills: builders (CONFIGURE_AGENTS) only, every skill checked whole before anything is kept.

A committed change is mirrored into the org's store partition, where the deep agent reads skills
(`atrium_agents.deep_agent.skills`) and the sandbox seeding copies them:

| skills of      | store namespace                                  | key                  |
|----------------|--------------------------------------------------|----------------------|
| the org        | `("org", <org id>, "skills")`                    | `/<name>/<path>`     |
| one assistant  | `("org", <org id>, "assistant", <id>, "skills")` | `/<name>/<path>`     |

The mirror runs after the commit (a rolled-back change never reaches the store); the rows stay the
truth, and saving a skill again rewrites its files (also after a mirror that failed, which is logged).
"""

from __future__ import annotations

import logging
import posixpath
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml
from django.db import IntegrityError, transaction
from langgraph.store.base import PutOp
from langgraph.store.postgres import PostgresStore

from atrium.assistants.selectors import assistant_get
from atrium.audit.services import audit_record
from atrium.core.errors import ConflictError, NotFoundError, ValidationFailedError
from atrium.core.tenancy import Permission, current_scope
from atrium.runtime.db import conninfo
from atrium.runtime.tenant_store import ORG_LABEL, TenantStore
from atrium.skills.models import Skill

logger = logging.getLogger(__name__)

SKILL_FILE = "SKILL.md"
SKILLS_LABEL = "skills"
# The Agent Skills spec's rules (deepagents checks the same, but only warns and skips).
NAME_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_FILES = 50
MAX_FILE_BYTES = 256 * 1024
MAX_SKILL_BYTES = 1024 * 1024
MAX_PATH = 200
_NAME = re.compile(NAME_PATTERN)
_PATH = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_FRONTMATTER = re.compile(r"^---\s*\n(.*?)\n---\s*(\n|$)", re.DOTALL)


def _invalid(message: str, code: str) -> ValidationFailedError:
    return ValidationFailedError(message, code=code)


def skill_frontmatter_check(text: str) -> tuple[str, str]:
    """(name, description) of a SKILL.md, or a 422 saying what is wrong with its frontmatter."""
    match = _FRONTMATTER.match(text)
    if match is None:
        raise _invalid(
            "SKILL.md: it must start with a YAML frontmatter between '---' lines.", "invalid_frontmatter"
        )
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        raise _invalid("SKILL.md: the frontmatter is not valid YAML.", "invalid_frontmatter") from None
    if not isinstance(data, dict):
        raise _invalid("SKILL.md: the frontmatter must be a mapping.", "invalid_frontmatter")
    name, description = data.get("name"), data.get("description")
    if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.match(name):
        raise _invalid(
            f"SKILL.md: name must be 1 to {MAX_NAME} lower-case letters, digits and single hyphens, "
            "not starting or ending with a hyphen.",
            "invalid_name",
        )
    if not isinstance(description, str) or not description.strip():
        raise _invalid("SKILL.md: description is required.", "invalid_description")
    if len(description.strip()) > MAX_DESCRIPTION:
        raise _invalid(
            f"SKILL.md: description is at most {MAX_DESCRIPTION} characters.", "invalid_description"
        )
    return name, description.strip()


def skill_files_check(files: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(name, description, files) of a skill's folder, or a 422: paths relative and clean, text only,
    a SKILL.md with valid frontmatter, within the size limits."""
    if not isinstance(files, Mapping) or SKILL_FILE not in files:
        raise _invalid(f"files: a skill needs a {SKILL_FILE}.", "missing_skill_md")
    if len(files) > MAX_FILES:
        raise _invalid(f"files: at most {MAX_FILES} files per skill.", "too_many_files")
    total = 0
    checked: dict[str, str] = {}
    for path, content in files.items():
        if (
            not isinstance(path, str)
            or len(path) > MAX_PATH
            or not _PATH.match(path)
            or posixpath.normpath(path) != path
            or any(part in (".", "..") for part in path.split("/"))
        ):
            raise _invalid(
                f"files: {str(path)[:MAX_PATH]!r} is not a relative path of letters, digits, '.', '_', "
                f"'-' and '/' (at most {MAX_PATH} characters, no '..').",
                "invalid_path",
            )
        if not isinstance(content, str) or "\x00" in content:
            raise _invalid(f"files: {path} must be text (without NUL characters).", "invalid_content")
        size = len(content.encode())
        if size > MAX_FILE_BYTES:
            raise _invalid(f"files: {path} is over {MAX_FILE_BYTES // 1024} KiB.", "file_too_large")
        total += size
        checked[path] = content
    if total > MAX_SKILL_BYTES:
        raise _invalid(f"files: a skill is at most {MAX_SKILL_BYTES // 1024} KiB in all.", "skill_too_large")
    name, description = skill_frontmatter_check(checked[SKILL_FILE])
    return name, description, checked


def _owner(assistant_id: uuid.UUID | None) -> uuid.UUID | None:
    """The assistant a skill belongs to (visible to the caller, or 404), or None for the org's."""
    return assistant_get(assistant_id=assistant_id).id if assistant_id is not None else None


def skill_create(*, files: Mapping[str, Any], assistant_id: uuid.UUID | None = None) -> Skill:
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    owner = _owner(assistant_id)
    name, description, checked = skill_files_check(files)
    try:
        with transaction.atomic():
            skill = Skill.objects.create(
                org_id=scope.org, assistant_id=owner, name=name, description=description, files=checked
            )
            audit_record(action="skill.create", target_type="skill", target_id=skill.id, data={"name": name})
    except IntegrityError:
        raise ConflictError(f"A skill named {name!r} exists already.", code="skill_exists") from None
    _mirror_on_commit(skill, previous={})
    return skill


def skill_update(*, name: str, files: Mapping[str, Any], assistant_id: uuid.UUID | None = None) -> Skill:
    """Replace a skill's files; SKILL.md's name must stay the skill's (rename = create + delete)."""
    current_scope().require(Permission.CONFIGURE_AGENTS)
    owner = _owner(assistant_id)
    new_name, description, checked = skill_files_check(files)
    if new_name != name:
        raise _invalid(f"SKILL.md: name must stay {name!r}.", "name_mismatch")
    with transaction.atomic():
        skill = _locked(name=name, owner=owner)
        previous = dict(skill.files)
        skill.description, skill.files = description, checked
        skill.save(update_fields=["description", "files", "updated_at"])
        audit_record(action="skill.update", target_type="skill", target_id=skill.id, data={"name": name})
    _mirror_on_commit(skill, previous=previous)
    return skill


def skill_delete(*, name: str, assistant_id: uuid.UUID | None = None) -> None:
    current_scope().require(Permission.CONFIGURE_AGENTS)
    owner = _owner(assistant_id)
    with transaction.atomic():
        skill = _locked(name=name, owner=owner)
        previous = dict(skill.files)
        skill.delete()
        audit_record(action="skill.delete", target_type="skill", target_id=skill.pk, data={"name": name})
    skill.files = {}
    _mirror_on_commit(skill, previous=previous)


def _locked(*, name: str, owner: uuid.UUID | None) -> Skill:
    if "\x00" in name:  # no skill has one, and the database refuses to compare it
        raise NotFoundError("Skill not found.")
    found = Skill.objects.select_for_update().filter(name=name)
    skill = (found.filter(assistant_id=owner) if owner else found.filter(assistant__isnull=True)).first()
    if skill is None:
        raise NotFoundError("Skill not found.")
    return skill


def skill_namespace(assistant_id: uuid.UUID | None) -> tuple[str, ...]:
    """The store namespace (as the agent names it, inside the org's partition) of a skill's files."""
    scope = current_scope()
    if assistant_id is None:
        return (ORG_LABEL, str(scope.org), SKILLS_LABEL)
    return (ORG_LABEL, str(scope.org), "assistant", str(assistant_id), SKILLS_LABEL)


def _mirror_on_commit(skill: Skill, *, previous: Mapping[str, str]) -> None:
    namespace = skill_namespace(skill.assistant_id)
    org_id = str(skill.org_id)
    files = dict(skill.files)
    transaction.on_commit(
        lambda: skill_mirror(
            org_id=org_id, namespace=namespace, name=skill.name, files=files, previous=previous
        )
    )


def skill_mirror(
    *,
    org_id: str,
    namespace: tuple[str, ...],
    name: str,
    files: Mapping[str, str],
    previous: Mapping[str, str],
) -> None:
    """Write a skill's files into the store and remove those it no longer has (all of them on delete)."""
    now = datetime.now(UTC).isoformat()
    ops = [
        PutOp(
            namespace,
            f"/{name}/{path}",
            {"content": text, "encoding": "utf-8", "created_at": now, "modified_at": now},
        )
        for path, text in files.items()
    ]
    ops += [PutOp(namespace, f"/{name}/{path}", None) for path in previous if path not in files]
    try:
        with PostgresStore.from_conn_string(conninfo()) as store:
            TenantStore(store, org_id, None).batch(ops)
    except Exception:
        # The change is committed and answered; the agent keeps the previous copy until the skill is
        # saved again. Logged loudly rather than turned into an error for a change that did happen.
        logger.exception("skill %s: copying its files to the store failed", name)
