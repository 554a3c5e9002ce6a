"""Skills and the user's memories copied into the run's sandbox, and memory changes copied back.

The file tools reach memories in the store directly (``/memories/…``), but code run with ``execute``
sees only the sandbox's disk. Before the agent runs, `SandboxFilesMiddleware` uploads:

* skills, from the org's ``("org", org_id, "skills")`` and the assistant's
  ``("org", org_id, "assistant", id, "skills")`` (both kept by builders, see `skills`; the
  assistant's wins on the same path), to
  ``/workspace/skills/``. They are copies: edits in the sandbox are not kept;
* the files the user attached to the thread (``("uploads", thread_id)``) to ``/workspace/uploads/``,
  for code to read, when the sandbox is the thread's own (copies, as skills are);
* the user's memories (``("org", org_id, "user", user_id, "memories")``) to ``/workspace/memories/``,
  when the assistant's ``user_memory`` is not ``off`` and the sandbox is the thread's own. An
  assistant-scoped sandbox is shared by every user of the assistant, so one user's memories never go
  there.

After the agent, files under ``/workspace/memories/`` that differ from what was seeded are written back
to the user's namespace (when ``user_memory`` is ``read_write``): changed files and new ones. A file the
agent also changed through ``/memories/`` during the turn keeps the store's version. Deleting a file in
the sandbox does not delete the memory. What was seeded is remembered as digests in the thread's state
(never the contents), so the comparison survives a worker restart between the two hooks.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import posixpath
from typing import Annotated, Any, NotRequired

from deepagents.backends.protocol import SandboxBackendProtocol
from deepagents.backends.utils import create_file_data, file_data_to_string
from langchain.agents.middleware import AgentMiddleware, AgentState
from langchain.agents.middleware.types import PrivateStateAttr
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.memory import (
    MissingScopeError,
    scope_of,
    uploads_namespace,
    user_namespace,
)
from atrium_agents.deep_agent.skills import assistant_skills_namespace, org_skills_namespace

logger = logging.getLogger(__name__)

SKILLS_DIR = "/workspace/skills"
MEMORIES_DIR = "/workspace/memories"
UPLOADS_DIR = "/workspace/uploads"
_PAGE = 500


class SandboxFilesState(AgentState[Any]):
    sandbox_seed: NotRequired[Annotated[dict[str, str], PrivateStateAttr]]
    """Sandbox path → sha256 of what was seeded into ``/workspace/memories/`` this turn."""


class SandboxFilesMiddleware(AgentMiddleware[SandboxFilesState, Context, Any]):
    state_schema = SandboxFilesState

    def __init__(self, sandbox: SandboxBackendProtocol, settings: Context) -> None:
        super().__init__()
        self._sandbox = sandbox
        # An assistant's sandbox is shared by all its users: one user's files never go there.
        self._seed_uploads = settings.sandbox == "thread"
        self._seed_memories = settings.sandbox == "thread" and settings.user_memory != "off"
        self._sync_memories = self._seed_memories and settings.user_memory == "read_write"

    async def abefore_agent(
        self, state: SandboxFilesState, runtime: Runtime[Context]
    ) -> dict[str, Any] | None:
        if runtime.store is None:
            return None
        scope = scope_of(runtime.context)
        files: dict[str, bytes] = {}
        for namespace in (org_skills_namespace(scope), assistant_skills_namespace(scope)):
            files.update(await _read_tree(runtime.store, namespace, SKILLS_DIR))
        if self._seed_uploads and (uploads := _uploads_namespace()) is not None:
            files.update(await _read_tree(runtime.store, uploads, UPLOADS_DIR))
        memories = (
            await _read_tree(runtime.store, user_namespace(scope), MEMORIES_DIR)
            if self._seed_memories
            else {}
        )
        files.update(memories)
        if files:
            for response in await self._sandbox.aupload_files(sorted(files.items())):
                if response.error:
                    logger.warning("seeding %s into the sandbox failed: %s", response.path, response.error)
        return {"sandbox_seed": {path: _digest(data) for path, data in memories.items()}}

    async def aafter_agent(
        self, state: SandboxFilesState, runtime: Runtime[Context]
    ) -> dict[str, Any] | None:
        if not self._sync_memories or runtime.store is None:
            return None
        seeded = state.get("sandbox_seed") or {}
        listing = await self._sandbox.aglob("**", path=MEMORIES_DIR)
        paths = sorted(m["path"] for m in listing.matches or [] if not m.get("is_dir"))
        if not paths:
            return None
        namespace = user_namespace(scope_of(runtime.context))
        for download in await self._sandbox.adownload_files(paths):
            key = _key_under(download.path, MEMORIES_DIR)
            if (
                download.content is None
                or key is None
                or _digest(download.content) == seeded.get(download.path)
            ):
                continue
            current = await runtime.store.aget(namespace, key)
            if download.path in seeded and (
                current is None or _digest(_content(current.value)) != seeded[download.path]
            ):
                logger.info(
                    "memory %s changed in the store during the turn; the sandbox copy is dropped", key
                )
                continue
            text, encoding = _as_text(download.content)
            created = current.value.get("created_at") if current is not None else None
            await runtime.store.aput(namespace, key, dict(create_file_data(text, created, encoding)))
        return None


def _uploads_namespace() -> tuple[str, ...] | None:
    """The thread's uploads, or None when the run names no thread (nothing to seed then)."""
    try:
        return uploads_namespace()
    except MissingScopeError:
        return None


async def _read_tree(store: BaseStore, namespace: tuple[str, ...], root: str) -> dict[str, bytes]:
    """Every file item of a namespace, as sandbox path → bytes (keys that would leave ``root`` skipped)."""
    files: dict[str, bytes] = {}
    offset = 0
    while True:
        items = await store.asearch(namespace, limit=_PAGE, offset=offset)
        for item in items:
            if tuple(item.namespace) != namespace:
                continue  # a deeper namespace: not a file of this tree
            path = posixpath.normpath(f"{root}/{item.key.lstrip('/')}")
            if not path.startswith(root + "/"):
                continue
            try:
                files[path] = _content(item.value)
            except (TypeError, ValueError, KeyError):
                logger.warning("store item %s in %s is not a file; not seeded", item.key, namespace)
        if len(items) < _PAGE:
            return files
        offset += _PAGE


def _content(value: dict[str, Any]) -> bytes:
    text = file_data_to_string(value)  # type: ignore[arg-type]
    return base64.b64decode(text) if value.get("encoding") == "base64" else text.encode()


def _as_text(data: bytes) -> tuple[str, str]:
    try:
        return data.decode(), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), "base64"


def _key_under(path: str, root: str) -> str | None:
    clean = posixpath.normpath(path)
    return clean[len(root) :] if clean.startswith(root + "/") else None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
