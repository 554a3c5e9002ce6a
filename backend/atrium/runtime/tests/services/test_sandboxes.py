"""Sandbox TTLs applied by beat: sandboxes idle past their TTL are deleted with their files."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from atrium.runtime import tasks
from atrium_agents.sandbox import BubblewrapProvider

_ROOT: dict[str, BubblewrapProvider] = {}


def provider_for_tests() -> BubblewrapProvider:
    return _ROOT["provider"]


@pytest.fixture
def provider(settings) -> Iterator[BubblewrapProvider]:  # type: ignore[no-untyped-def]
    root = tempfile.mkdtemp(prefix="atrium-sandbox-ttl-")
    _ROOT["provider"] = BubblewrapProvider(root, ttl_seconds=3600)
    settings.ATRIUM_SANDBOX_PROVIDER = f"{__name__}:provider_for_tests"
    yield _ROOT["provider"]
    _ROOT.clear()
    shutil.rmtree(root, ignore_errors=True)


def _idle_for(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path / "meta.json", (past, past))


def test_beat_deletes_sandboxes_idle_past_their_ttl_and_keeps_the_others(provider):
    # given: one sandbox idle for two hours (TTL one hour), one used a minute ago
    stale = provider.get_or_create({"org_id": "acme", "thread_id": "old"})
    fresh = provider.get_or_create({"org_id": "acme", "thread_id": "new"})
    (stale.workspace_dir / "report.txt").write_text("old work")
    _idle_for(stale.workspace_dir.parent, 7200)
    _idle_for(fresh.workspace_dir.parent, 60)

    # when
    deleted = tasks.sandboxes_expire()

    # then
    assert deleted == 1
    assert not stale.workspace_dir.parent.exists()
    assert [info.labels["thread_id"] for info in provider.list_sandboxes()] == ["new"]
    assert tasks.sandboxes_expire() == 0


def test_the_sweep_is_scheduled_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["sandboxes-expire"]
    assert entry["task"] == tasks.sandboxes_expire.name
    assert entry["schedule"] == float(settings.ATRIUM_SANDBOX_SWEEP_SECONDS)
