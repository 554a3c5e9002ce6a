"""The platform's side of agent sandboxes: expiry by beat, and the files a thread's agent produced.

Sandboxes belong to the worker's provider (``ATRIUM_SANDBOX_PROVIDER``, a dotted path to a callable
returning a `SandboxProvider`; by default the bubblewrap provider under ``ATRIUM_SANDBOX_DIR``). It
is imported when first needed, never at import time: the runtime runs any LangGraph project, and one
without sandboxes never loads it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from atrium.assistants.models import Assistant
from atrium.runtime.models import Thread

logger = logging.getLogger(__name__)

# Each thread's generation token, in its config (`configurable`): a thread deleted and created again
# under the same id (clients choose ids) is another conversation, and its agent must not find the old
# one's sandbox. The agents label thread sandboxes with it (atrium_agents.sandbox.run_scoped); LangGraph
# copies no `__` key into checkpoint metadata, and the API's thread objects leave it out.
THREAD_GENERATION = "__atrium_thread_generation"
THREAD_GENERATION_LABEL = "thread_generation"


def thread_config_new_generation(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`config` (a new thread's, or the one it is copied from) with a fresh generation token."""
    config = dict(config or {})
    config["configurable"] = {**(config.get("configurable") or {}), THREAD_GENERATION: uuid.uuid4().hex}
    return config


def thread_generation(config: Mapping[str, Any] | None) -> str | None:
    """The generation token in a thread's config; None for threads made before tokens existed."""
    value = ((config or {}).get("configurable") or {}).get(THREAD_GENERATION)
    return str(value) if value else None


def thread_config_public(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A thread's config as clients see it: without the generation token."""
    config = dict(config or {})
    configurable = config.get("configurable")
    if isinstance(configurable, dict) and THREAD_GENERATION in configurable:
        rest = {k: v for k, v in configurable.items() if k != THREAD_GENERATION}
        if rest:
            config["configurable"] = rest
        else:
            del config["configurable"]
    return config


def thread_sandbox_labels(thread: Thread) -> dict[str, str]:
    """The labels of the sandbox a `thread`-scoped agent of this thread uses."""
    labels = {"org_id": str(thread.org_id), "thread_id": str(thread.id)}
    generation = thread_generation(thread.config)
    if generation:
        labels[THREAD_GENERATION_LABEL] = generation
    return labels


def sandbox_provider() -> Any:
    """The configured provider (a `SandboxProvider`; typed loosely because agents are a plug-in)."""
    factory = import_string(settings.ATRIUM_SANDBOX_PROVIDER.replace(":", "."))
    return factory()


def sandboxes_expire() -> list[str]:
    """Delete sandboxes unused for longer than their TTL, and those whose thread or assistant no longer
    exists (a deleted conversation's files must not wait out the TTL); returns their ids. Safe to run
    concurrently: a delete renames the directory first, so two sweepers never both remove one."""
    provider = sandbox_provider()
    deleted: list[str] = provider.cleanup_expired()
    for sandbox_id in _orphans(provider.list_sandboxes()):
        if provider.delete(sandbox_id):
            deleted.append(sandbox_id)
    if deleted:
        logger.info("deleted %d sandboxes (expired or orphaned)", len(deleted))
    return deleted


def _orphans(infos: list[Any]) -> list[str]:
    """Ids of sandboxes labelled with a thread or assistant that is gone, or with an earlier
    generation of a thread id that was deleted and taken again. Unreadable ids are left be."""
    orphans = []
    for label, existing in (("thread_id", _existing_threads), ("assistant_id", _existing_assistants)):
        wanted = {info.id: _uuid(info.labels.get(label)) for info in infos if label in info.labels}
        alive = existing({value for value in wanted.values() if value is not None})
        orphans += [
            sandbox_id for sandbox_id, value in wanted.items() if value is not None and value not in alive
        ]
    generations = _thread_generations(
        {thread_id for info in infos if (thread_id := _uuid(info.labels.get("thread_id"))) is not None}
    )
    for info in infos:
        # A thread's sandbox is its own only under the same generation (none on both sides: a thread
        # and its sandbox from before generations existed).
        thread_id = _uuid(info.labels.get("thread_id"))
        if thread_id in generations and generations[thread_id] != info.labels.get(THREAD_GENERATION_LABEL):
            orphans.append(info.id)
    return orphans


def _existing_threads(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(Thread.unscoped.filter(id__in=ids).values_list("id", flat=True)) if ids else set()


def _thread_generations(ids: set[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    if not ids:
        return {}
    return {
        thread_id: thread_generation(config)
        for thread_id, config in Thread.unscoped.filter(id__in=ids).values_list("id", "config")
    }


def _existing_assistants(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(Assistant.unscoped.filter(id__in=ids).values_list("id", flat=True)) if ids else set()


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
