"""Thread TTLs: expired threads are deleted, or pruned to their latest checkpoint (`keep_latest`).

Called by beat (`atrium.runtime.threads_expire`); several beats or workers may run it at once: each
expired thread is taken by one (`FOR UPDATE SKIP LOCKED`). Busy threads wait for their runs to end.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from atrium.runtime import checkpoints
from atrium.runtime.models import Thread, ThreadStatus

BATCH = 100


def threads_expire(*, batch: int = BATCH) -> dict[str, int]:
    deleted = pruned = 0
    with transaction.atomic():
        expired = list(
            Thread.unscoped.select_for_update(skip_locked=True)
            .filter(expires_at__lte=timezone.now())
            .exclude(status=ThreadStatus.BUSY)
            .order_by("expires_at")[:batch]
        )
        for thread in expired:
            if thread.ttl_strategy == "keep_latest":
                checkpoints.keep_latest(thread_id=str(thread.id))
                # The TTL restarts: the thread lives on with its newest state only.
                thread.expires_at = timezone.now() + timedelta(minutes=thread.ttl_minutes or 0)
                thread.save(update_fields=["expires_at", "updated_at"])
                pruned += 1
            else:
                checkpoints.delete_thread(thread_id=str(thread.id))
                thread.delete()
                deleted += 1
    return {"deleted": deleted, "pruned": pruned}
