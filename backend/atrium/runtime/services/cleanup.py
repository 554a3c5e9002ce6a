"""Thread TTLs: expired threads are deleted, or pruned to their latest checkpoint (`keep_latest`).

A thread expires at its own TTL (set by its creator), else, when the project's `langgraph.json` sets
`checkpointer.ttl`, once it has not been updated (no run, no state change) for its `default_ttl`.

Called by beat (`atrium.runtime.threads_expire`); several beats or workers may run it at once: each
expired thread is taken by one (`FOR UPDATE SKIP LOCKED`). Busy threads wait for their runs to end.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from atrium.assistants.graphs import project_ttls
from atrium.runtime import checkpoints
from atrium.runtime.engine.project import CheckpointerTTL
from atrium.runtime.models import Thread, ThreadStatus
from atrium.runtime.services.uploads import thread_uploads_on_disk

BATCH = 100


def _expired(batch: int, idle: CheckpointerTTL | None) -> list[tuple[Thread, str]]:
    """Expired threads, locked, with the strategy each expires by."""
    now = timezone.now()
    own = (
        Thread.unscoped.select_for_update(skip_locked=True)
        .filter(expires_at__lte=now)
        .exclude(status=ThreadStatus.BUSY)
        .order_by("expires_at")[:batch]
    )
    found = [(thread, thread.ttl_strategy) for thread in own]
    if idle is not None and len(found) < batch:
        idle_threads = (
            Thread.unscoped.select_for_update(skip_locked=True)
            .filter(ttl_minutes__isnull=True, updated_at__lte=now - timedelta(minutes=idle.default_ttl))
            .exclude(status=ThreadStatus.BUSY)
            .order_by("updated_at")[: batch - len(found)]
        )
        found += [(thread, idle.strategy) for thread in idle_threads]
    return found


def threads_expire(*, batch: int = BATCH) -> dict[str, int]:
    deleted = pruned = 0
    with transaction.atomic():
        for thread, strategy in _expired(batch, project_ttls().checkpointer):
            if strategy == "keep_latest" and thread.ttl_minutes is None:
                # Idle past the project's TTL: pruned, and idle again from now.
                checkpoints.keep_latest(thread_id=str(thread.id))
                thread.save(update_fields=["updated_at"])
                pruned += 1
            elif strategy == "keep_latest":
                checkpoints.keep_latest(thread_id=str(thread.id))
                # The TTL restarts: the thread lives on with its newest state only.
                thread.expires_at = timezone.now() + timedelta(minutes=thread.ttl_minutes or 0)
                thread.save(update_fields=["expires_at", "updated_at"])
                pruned += 1
            else:
                checkpoints.delete_thread(
                    thread_id=str(thread.id), uploads_prefix=thread_uploads_on_disk(thread)
                )
                thread.delete()
                deleted += 1
    return {"deleted": deleted, "pruned": pruned}
