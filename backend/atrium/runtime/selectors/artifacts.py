"""Files an agent produced in a thread's sandbox (``/workspace``), for the thread's owner to download.

Only the owner sees them (`thread_get_owned`): everyone else, org admins included, gets a 404, since
a workspace can hold whatever the user gave the agent. Listing and reading run inside the sandbox
through the provider (``ATRIUM_SANDBOX_PROVIDER``), so a symlink planted by sandboxed code resolves
in the sandbox's view and can never reach the host's files. The seeded copies of skills, memories and the
user's attached files are not artifacts and are left out.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atrium.core.errors import NotFoundError, ValidationFailedError
from atrium.runtime.selectors.threads import thread_get_owned
from atrium.runtime.services.sandboxes import sandbox_provider, thread_sandbox_labels

WORKSPACE = "/workspace"
NOT_ARTIFACTS = ("memories", "skills", "uploads")  # copies; uploads are listed at /agent/threads/{id}/files
MAX_LISTED = 1000


@dataclass(frozen=True)
class Artifact:
    path: str  # relative to /workspace
    size: int
    modified_at: str | None


def _thread_sandbox(thread_id: str) -> Any | None:
    thread = thread_get_owned(thread_id=thread_id)
    return sandbox_provider().find(thread_sandbox_labels(thread))


def artifact_list(*, thread_id: str) -> list[Artifact]:
    """The thread's files, by path; empty when its agent never had a sandbox."""
    sandbox = _thread_sandbox(thread_id)
    if sandbox is None:
        return []
    # Regular files only (symlinks are not artifacts); NUL-separated, so any file name survives.
    listing = sandbox.execute(f"find {WORKSPACE} -type f -printf '%s\\t%T@\\t%P\\0'")
    artifacts = []
    for entry in listing.output.split("\0") if listing.exit_code == 0 else []:
        size, mtime, relative = [*entry.split("\t", 2), "", ""][:3]
        if not relative or not size.isdigit() or _hidden(relative):
            continue
        modified = datetime.fromtimestamp(float(mtime), tz=UTC).isoformat() if _is_number(mtime) else None
        artifacts.append(Artifact(relative, int(size), modified))
    return sorted(artifacts, key=lambda a: a.path)[:MAX_LISTED]


def artifact_read(*, thread_id: str, path: str) -> tuple[str, bytes]:
    """(file name, content) of one artifact; 404 when it is not there or not a file."""
    relative = posixpath.normpath(path.strip("/"))
    if not path.strip("/") or relative.startswith("..") or "\x00" in path:
        raise ValidationFailedError("path must name a file under the thread's workspace.")
    sandbox = _thread_sandbox(thread_id)
    if sandbox is None or _hidden(relative):
        raise NotFoundError(f"Artifact {relative} not found.")
    (download,) = sandbox.download_files([f"{WORKSPACE}/{relative}"])
    if download.content is None:
        raise NotFoundError(f"Artifact {relative} not found.")
    return posixpath.basename(relative), bytes(download.content)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _hidden(relative: str) -> bool:
    parts = relative.split("/")
    return parts[0] in NOT_ARTIFACTS or any(part.startswith(".") for part in parts)
