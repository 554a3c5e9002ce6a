"""The platform's side of agent sandboxes: expiry by beat, and the files a thread's agent produced.

Sandboxes belong to the worker's provider (``ATRIUM_SANDBOX_PROVIDER``, a dotted path to a callable
returning a `SandboxProvider`; by default the bubblewrap provider under ``ATRIUM_SANDBOX_DIR``). It
is imported when first needed, never at import time: the runtime runs any LangGraph project, and one
without sandboxes never loads it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def sandbox_provider() -> Any:
    """The configured provider (a `SandboxProvider`; typed loosely because agents are a plug-in)."""
    factory = import_string(settings.ATRIUM_SANDBOX_PROVIDER.replace(":", "."))
    return factory()


def sandboxes_expire() -> list[str]:
    """Delete sandboxes unused for longer than their TTL; returns their ids. Safe to run concurrently:
    a delete renames the directory first, so two sweepers never both remove one sandbox."""
    deleted: list[str] = sandbox_provider().cleanup_expired()
    if deleted:
        logger.info("deleted %d expired sandboxes", len(deleted))
    return deleted
