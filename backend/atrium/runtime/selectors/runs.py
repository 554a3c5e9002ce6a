"""Reads on runs: visible through the threads the caller may see."""

from __future__ import annotations

import uuid
from datetime import datetime

from atrium.core.errors import NotFoundError
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run
from atrium.runtime.selectors.threads import thread_get, thread_queryset


def run_get(*, thread_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    run = Run.objects.filter(id=run_id, thread_id=thread_id, thread__in=thread_queryset()).first()
    if run is None:
        raise NotFoundError("Run not found.")
    return run


def run_get_any(*, run_id: uuid.UUID) -> Run | None:
    return Run.objects.filter(id=run_id, thread__in=thread_queryset()).first()


def run_list(*, thread_id: uuid.UUID, limit: int, offset: int, status: str | None) -> list[Run]:
    thread = thread_get(thread_id=thread_id)
    runs = Run.objects.filter(thread=thread).order_by("-created_at")
    if status:
        runs = runs.filter(status=status)
    return list(runs[offset : offset + limit])


def run_refs_for_thread(
    *, thread_id: uuid.UUID, created_after: datetime | None = None, active_only: bool = False
) -> list[tuple[str, str, datetime]]:
    """`(run_id, status, created_at)` of a visible thread's runs, oldest first (the thread stream)."""
    runs = Run.objects.filter(thread_id=thread_id, thread__in=thread_queryset()).order_by("created_at")
    if created_after is not None:
        runs = runs.filter(created_at__gt=created_after)
    if active_only:
        runs = runs.filter(status__in=ACTIVE_RUN_STATUSES)
    rows = runs.values_list("id", "status", "created_at")
    return [(str(run_id), status, created) for run_id, status, created in rows]
