"""Sandbox TTLs applied by beat: sandboxes idle past their TTL are deleted with their files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings

from atrium.runtime import tasks


def _idle_for(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path / "meta.json", (past, past))


def test_beat_deletes_sandboxes_idle_past_their_ttl_and_keeps_the_others(sandbox_provider):
    # given: one sandbox idle for two hours (TTL one hour), one used a minute ago
    stale = sandbox_provider.get_or_create({"org_id": "acme", "thread_id": "old"})
    fresh = sandbox_provider.get_or_create({"org_id": "acme", "thread_id": "new"})
    (stale.workspace_dir / "report.txt").write_text("old work")
    _idle_for(stale.workspace_dir.parent, 7200)
    _idle_for(fresh.workspace_dir.parent, 60)

    # when
    deleted = tasks.sandboxes_expire()

    # then
    assert deleted == 1
    assert not stale.workspace_dir.parent.exists()
    assert [info.labels["thread_id"] for info in sandbox_provider.list_sandboxes()] == ["new"]
    assert tasks.sandboxes_expire() == 0


def test_the_sweep_is_scheduled_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["sandboxes-expire"]
    assert entry["task"] == tasks.sandboxes_expire.name
    assert entry["schedule"] == float(settings.ATRIUM_SANDBOX_SWEEP_SECONDS)
