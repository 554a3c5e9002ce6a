"""The interface every sandbox provider implements, and what it records about a sandbox.

A provider owns sandboxes and finds them again by **labels** (``{"org_id": ..., "thread_id": ...}``),
so a worker that restarts, or another worker, reaches the same sandbox for the same conversation. The
sandbox itself is a deepagents `SandboxBackendProtocol`: ``execute`` plus file transfer, on which
``BaseSandbox`` builds the file tools.

Plugging in another provider (a container, a VM, a hosted service such as Daytona, E2B, Modal or
LangSmith sandboxes): implement `SandboxProvider` with the service's own lookup by labels (most hosted
APIs have labels or metadata on a sandbox; otherwise keep a labels → id table), return the service's
deepagents backend (or a ``BaseSandbox`` subclass over its SDK) from `get_or_create`, and map
`cleanup_expired` to its delete call. Nothing else in the agent changes: it only sees the protocol.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from deepagents.backends.protocol import SandboxBackendProtocol

Labels = Mapping[str, str]

_LABEL = re.compile(r"^[A-Za-z0-9\-_.@+:~]+$")


class SandboxError(RuntimeError):
    """A provider cannot give a sandbox (misconfigured, unavailable). Never raised by ``execute``."""


@dataclass(frozen=True)
class SandboxInfo:
    """What a provider records about one sandbox; enough to find it again and to expire it."""

    id: str
    labels: dict[str, str]
    created_at: float
    last_used_at: float
    ttl_seconds: float | None

    def expired(self, now: float) -> bool:
        return self.ttl_seconds is not None and self.last_used_at + self.ttl_seconds < now


@runtime_checkable
class SandboxProvider(Protocol):
    """Creates, finds and deletes sandboxes by labels."""

    def get_or_create(self, labels: Labels) -> SandboxBackendProtocol:
        """The sandbox with exactly these labels, created when there is none. Safe to race."""
        ...

    def find(self, labels: Labels) -> SandboxBackendProtocol | None: ...

    def delete(self, sandbox_id: str) -> bool:
        """Delete a sandbox and everything in it; False when it did not exist."""
        ...

    def list_sandboxes(self) -> list[SandboxInfo]: ...

    def cleanup_expired(self, *, now: float | None = None) -> list[str]:
        """Delete sandboxes unused for longer than their TTL; returns the deleted ids."""
        ...


def validate_labels(labels: Labels) -> dict[str, str]:
    """Labels as a plain dict, refusing empty ones and characters that could reach a path or a shell."""
    if not labels:
        raise SandboxError("a sandbox needs at least one label (e.g. thread_id)")
    clean: dict[str, str] = {}
    for key, value in labels.items():
        key, value = str(key), str(value)
        if not _LABEL.match(key) or not _LABEL.match(value):
            raise SandboxError(f"label {key!r}={value!r} has characters outside [A-Za-z0-9-_.@+:~]")
        clean[key] = value
    return clean


def sandbox_id_for(labels: Labels) -> str:
    """A stable id derived from the labels, so a lookup is one path and creation can be atomic."""
    canonical = json.dumps(validate_labels(labels), sort_keys=True, separators=(",", ":"))
    return "sbx-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
