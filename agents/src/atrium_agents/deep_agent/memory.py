"""Where the agent's files live, and who may touch them.

``CompositeBackend`` routes by longest prefix, and strips it before delegating:

| path                     | backend                       | store namespace                                 |
|--------------------------|-------------------------------|-------------------------------------------------|
| ``/memories/org/…``      | StoreBackend (read-only)      | ``("org", org_id, "memories")``                 |
| ``/memories/assistant/…``| StoreBackend                  | ``("org", org_id, "assistant", id, "memories")``|
| ``/memories/…``          | StoreBackend                  | ``("org", org_id, "user", user_id, "memories")``|
| ``/uploads/…``           | StoreBackend (read-only)      | ``("uploads", thread_id)``, the owner's private |
|                          |                               | partition: files the user attached to the thread|
| anything else            | StateBackend (thread scratch) | none: files live in checkpointed state          |
|                          | or the run's sandbox          | (when the assistant has one; see `sandbox`)     |

Every namespace starts with ``("org", org_id)`` so the platform's store API can scope a tenant with one
prefix check, and a user's memories in one org never follow them into another. The two narrower
routes must exist even when their scope is switched off: otherwise the ``/memories/`` route would
swallow ``/memories/org/x`` and write it into the user's namespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from deepagents import FilesystemPermission
from deepagents.backends import CompositeBackend, StateBackend, StoreBackend
from deepagents.backends.protocol import BackendProtocol
from langgraph.config import get_config

from atrium_agents.deep_agent.context import Context, MemoryAccess

USER_PREFIX = "/memories/"
ASSISTANT_PREFIX = "/memories/assistant/"
ORG_PREFIX = "/memories/org/"
UPLOADS_PREFIX = "/uploads/"
UPLOADS_LABEL = "uploads"
MEMORY_FILE = "AGENTS.md"

# StoreBackend rejects namespace labels outside this set; checking first gives a clearer error.
_LABEL = re.compile(r"^[A-Za-z0-9\-_.@+:~]+$")


class MissingScopeError(LookupError):
    """A run reached tenant memory without the ids that say whose memory it is."""


@dataclass(frozen=True)
class Scope:
    user_id: str
    org_id: str
    assistant_id: str


def user_namespace(scope: Scope) -> tuple[str, ...]:
    return ("org", scope.org_id, "user", scope.user_id, "memories")


def assistant_namespace(scope: Scope) -> tuple[str, ...]:
    return ("org", scope.org_id, "assistant", scope.assistant_id, "memories")


def org_namespace(scope: Scope) -> tuple[str, ...]:
    return ("org", scope.org_id, "memories")


def uploads_namespace() -> tuple[str, ...]:
    """Where the platform puts the files a user attached to this run's thread (`POST
    /threads/{id}/files`). Not under ``("org", …)``: the runtime's store keeps namespaces outside it in
    the run's user's private partition, so only the thread's owner and their runs reach them."""
    try:
        thread_id = str(get_config().get("configurable", {}).get("thread_id") or "")
    except RuntimeError:  # outside a runnable context
        thread_id = ""
    if not _LABEL.match(thread_id):
        raise MissingScopeError("thread_id is required to reach the thread's uploaded files")
    return (UPLOADS_LABEL, thread_id)


def scope_of(context: Any) -> Scope:
    """The ids of the current run, failing closed when one is missing or malformed.

    Read from the run's context (a `Context`, or None when the caller gave none) first, then from
    ``config["configurable"]``, where the runtime also puts them (and where they survive a resume that
    forgot the context). There is deliberately no default: a shared "anonymous" namespace would mix
    tenants.
    """
    try:
        configurable = get_config().get("configurable", {})
    except RuntimeError:  # outside a runnable context
        configurable = {}
    values: dict[str, str] = {}
    for name in ("user_id", "org_id", "assistant_id"):
        value = getattr(context, name, None) or configurable.get(name)
        if name == "user_id" and not value:
            value = configurable.get("langgraph_auth_user_id")
        if not value:
            raise MissingScopeError(f"{name} is required to reach memory; the runtime must supply it")
        value = str(value)
        if not _LABEL.match(value):
            raise MissingScopeError(f"{name} {value!r} has characters a store namespace cannot hold")
        values[name] = value
    return Scope(**values)


def build_backend(
    default: BackendProtocol | None = None, extra_routes: dict[str, BackendProtocol] | None = None
) -> CompositeBackend:
    """The file backend of the agent. Namespaces resolve per call, so one graph serves every tenant.

    ``default`` takes every path outside ``/memories/``: thread scratch in state, or a sandbox, which
    also gives the agent ``execute`` (CompositeBackend offers it when its default can run commands).
    """
    # With a sandbox, deepagents accepts permission rules only when every rule path starts with a route
    # key: rules cannot hold `execute`, so they must only guard routed (store) paths, which sandboxed
    # commands cannot reach. The bare "/memories" rule needs a key without the slash; routing is the
    # same (CompositeBackend matches "/memories" and "/memories/..." either way).
    user_key = USER_PREFIX.rstrip("/") if default is not None else USER_PREFIX
    uploads_key = UPLOADS_PREFIX.rstrip("/") if default is not None else UPLOADS_PREFIX
    return CompositeBackend(
        default=default or StateBackend(),
        routes={
            user_key: StoreBackend(namespace=lambda rt: user_namespace(scope_of(rt.context))),
            ASSISTANT_PREFIX: StoreBackend(namespace=lambda rt: assistant_namespace(scope_of(rt.context))),
            ORG_PREFIX: StoreBackend(namespace=lambda rt: org_namespace(scope_of(rt.context))),
            **(extra_routes or {}),
            uploads_key: StoreBackend(namespace=lambda rt: uploads_namespace()),
        },
    )


def build_permissions(settings: Context) -> list[FilesystemPermission]:
    """Permission rules for the memory policy, most specific prefix first (the first match wins)."""
    rules: list[FilesystemPermission] = []
    for prefix, access in (
        (ORG_PREFIX, settings.org_memory),
        (ASSISTANT_PREFIX, settings.assistant_memory),
        (USER_PREFIX, settings.user_memory),
    ):
        rules.extend(_rules_for(prefix, access))
    # What the user attached stays as they gave it: the agent reads it, and writes its own files elsewhere.
    rules.extend(_rules_for(UPLOADS_PREFIX, "read_only"))
    return rules


def memory_sources(settings: Context) -> list[str]:
    """AGENTS.md files loaded into the prompt, org first so narrower scopes can refine it."""
    return [
        f"{prefix}{MEMORY_FILE}"
        for prefix, access in (
            (ORG_PREFIX, settings.org_memory),
            (ASSISTANT_PREFIX, settings.assistant_memory),
            (USER_PREFIX, settings.user_memory),
        )
        if access != "off"
    ]


def _rules_for(prefix: str, access: MemoryAccess) -> list[FilesystemPermission]:
    paths = [prefix.rstrip("/"), f"{prefix}**"]
    if access == "off":
        return [FilesystemPermission(operations=["read", "write"], paths=paths, mode="deny")]
    if access == "read_only":
        return [
            FilesystemPermission(operations=["write"], paths=paths, mode="deny"),
            FilesystemPermission(operations=["read"], paths=paths, mode="allow"),
        ]
    # An explicit allow stops the broader /memories/ rules below from applying to this prefix.
    return [FilesystemPermission(operations=["read", "write"], paths=paths, mode="allow")]
