"""The platform's side of agent sandboxes: expiry by beat, and the files a thread's agent produced.

Sandboxes belong to the worker's provider (``ATRIUM_SANDBOX_PROVIDER``, a dotted path to a callable
returning a `SandboxProvider`; by default the bubblewrap provider under ``ATRIUM_SANDBOX_DIR``). It
is imported when first needed, never at import time: the runtime runs any LangGraph project, and one
without sandboxes never loads it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from atrium.assistants.models import Assistant
from atrium.runtime.models import Thread

logger = logging.getLogger(__name__)


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
    """Ids of sandboxes labelled with a thread or assistant that is gone. Unreadable ids are left be."""
    orphans = []
    for label, existing in (("thread_id", _existing_threads), ("assistant_id", _existing_assistants)):
        wanted = {info.id: _uuid(info.labels.get(label)) for info in infos if label in info.labels}
        alive = existing({value for value in wanted.values() if value is not None})
        orphans += [
            sandbox_id for sandbox_id, value in wanted.items() if value is not None and value not in alive
        ]
    return orphans


def _existing_threads(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(Thread.unscoped.filter(id__in=ids).values_list("id", flat=True)) if ids else set()


def _existing_assistants(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(Assistant.unscoped.filter(id__in=ids).values_list("id", flat=True)) if ids else set()


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
