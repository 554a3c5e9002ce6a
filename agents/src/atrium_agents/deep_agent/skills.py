"""Skills given to deepagents' skills support, read from the org's store partition.

Builders keep skills in the control plane (atrium.skills), which mirrors each one's files into the
store; here they are two read-only routes of the agent's file backend, and the sources of
deepagents' `SkillsMiddleware` (later source wins on a name, so an assistant's skill overrides the
org's):

| path                   | store namespace                                  | writes              |
|------------------------|--------------------------------------------------|---------------------|
| ``/skills/org/…``      | ``("org", org_id, "skills")``                    | refused (two ways)  |
| ``/skills/assistant/…``| ``("org", org_id, "assistant", id, "skills")``   | refused (two ways)  |

The agent may read a skill's files (``read_file /skills/org/<name>/SKILL.md``) but never change them:
the permission rules deny writes on both routes, and the routes' backend refuses writes itself, so a
rule mistake cannot turn a skill into something an end user's prompt can rewrite. With a sandbox the
files are also copied to ``/workspace/skills/`` for code to run (`sandbox_files`).
"""

from __future__ import annotations

from deepagents import FilesystemPermission
from deepagents.backends import StoreBackend
from deepagents.backends.protocol import (
    BackendProtocol,
    DeleteResult,
    EditResult,
    FileUploadResponse,
    WriteResult,
)

from atrium_agents.deep_agent.memory import Scope, assistant_namespace, scope_of

ORG_SKILLS = "/skills/org/"
ASSISTANT_SKILLS = "/skills/assistant/"
SKILLS_LABEL = "skills"
_READ_ONLY = "permission_denied"


def org_skills_namespace(scope: Scope) -> tuple[str, ...]:
    return ("org", scope.org_id, SKILLS_LABEL)


def assistant_skills_namespace(scope: Scope) -> tuple[str, ...]:
    return (*assistant_namespace(scope)[:-1], SKILLS_LABEL)


class ReadOnlyStoreBackend(StoreBackend):
    """A store route the agent may read but not change."""

    def write(self, file_path: str, content: str) -> WriteResult:
        return WriteResult(error=f"Error: {file_path} is read-only (skills are managed by builders)")

    async def awrite(self, file_path: str, content: str) -> WriteResult:
        return self.write(file_path, content)

    def edit(self, file_path: str, old_string: str, new_string: str, replace_all: bool = False) -> EditResult:
        return EditResult(error=f"Error: {file_path} is read-only (skills are managed by builders)")

    async def aedit(
        self, file_path: str, old_string: str, new_string: str, replace_all: bool = False
    ) -> EditResult:
        return self.edit(file_path, old_string, new_string, replace_all)

    def delete(self, file_path: str) -> DeleteResult:
        return DeleteResult(error=f"Error: {file_path} is read-only (skills are managed by builders)")

    async def adelete(self, file_path: str) -> DeleteResult:
        return self.delete(file_path)

    def upload_files(self, files: list[tuple[str, bytes]]) -> list[FileUploadResponse]:
        return [FileUploadResponse(path=path, error=_READ_ONLY) for path, _ in files]

    async def aupload_files(self, files: list[tuple[str, bytes]]) -> list[FileUploadResponse]:
        return self.upload_files(files)


def skill_routes() -> dict[str, BackendProtocol]:
    return {
        ORG_SKILLS: ReadOnlyStoreBackend(namespace=lambda rt: org_skills_namespace(scope_of(rt.context))),
        ASSISTANT_SKILLS: ReadOnlyStoreBackend(
            namespace=lambda rt: assistant_skills_namespace(scope_of(rt.context))
        ),
    }


def skill_sources() -> list[str]:
    """Org first, so an assistant's skill of the same name wins."""
    return [ORG_SKILLS, ASSISTANT_SKILLS]


def skill_permissions() -> list[FilesystemPermission]:
    return [
        FilesystemPermission(operations=["write"], paths=[f"{prefix}**"], mode="deny")
        for prefix in (ORG_SKILLS, ASSISTANT_SKILLS)
    ]
