"""Sandbox TTLs applied by beat: sandboxes idle past their TTL are deleted with their files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from atrium.assistants.models import Assistant
from atrium.assistants.services import assistant_create
from atrium.core.tenancy import scoped
from atrium.runtime import tasks
from atrium.runtime.models import Thread


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


@pytest.mark.django_db
def test_beat_deletes_the_sandboxes_of_deleted_threads_and_assistants(sandbox_provider, org, admin):
    # given: sandboxes of a live thread, a deleted thread, a live and a deleted assistant
    with scoped(admin.scope()):
        assistant = assistant_create(graph_id="agent", name="Coder")
        gone_assistant = assistant_create(graph_id="agent", name="Gone")
    live = Thread.unscoped.create(org=org, owner=admin.user)
    gone = Thread.unscoped.create(org=org, owner=admin.user)
    labels = {
        "live": {"org_id": str(org.id), "thread_id": str(live.id)},
        "gone": {"org_id": str(org.id), "thread_id": str(gone.id)},
        "assistant": {"org_id": str(org.id), "assistant_id": str(assistant.id)},
        "gone-assistant": {"org_id": str(org.id), "assistant_id": str(gone_assistant.id)},
    }
    for value in labels.values():
        sandbox_provider.get_or_create(value)
    gone.delete()
    Assistant.unscoped.filter(id=gone_assistant.id).delete()

    # when
    deleted = tasks.sandboxes_expire()

    # then
    assert deleted == 2
    remaining = sorted(sorted(info.labels.items()) for info in sandbox_provider.list_sandboxes())
    assert remaining == sorted(sorted(labels[name].items()) for name in ("live", "assistant"))


@pytest.mark.django_db
def test_beat_deletes_the_sandboxes_of_an_earlier_generation_of_a_thread_id(sandbox_provider, org, admin):
    # given: thread X of today, and sandboxes of X from an earlier generation and from before generations
    from atrium.runtime.services.sandboxes import thread_config_new_generation, thread_sandbox_labels

    thread = Thread.unscoped.create(org=org, owner=admin.user, config=thread_config_new_generation())
    ids = {"org_id": str(org.id), "thread_id": str(thread.id)}
    current = sandbox_provider.get_or_create(thread_sandbox_labels(thread))
    earlier = sandbox_provider.get_or_create({**ids, "thread_generation": "0123abcd"})
    before_generations = sandbox_provider.get_or_create(ids)
    # and an old thread with no generation keeps its sandbox
    old_thread = Thread.unscoped.create(org=org, owner=admin.user)
    old_own = sandbox_provider.get_or_create({"org_id": str(org.id), "thread_id": str(old_thread.id)})

    # when
    tasks.sandboxes_expire()

    # then
    remaining = {info.id for info in sandbox_provider.list_sandboxes()}
    assert remaining == {current.id, old_own.id}
    assert earlier.id not in remaining
    assert before_generations.id not in remaining
