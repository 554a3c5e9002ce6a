"""Sandboxes are found again by labels, from disk, and expire after their TTL."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from atrium_agents.sandbox import BubblewrapProvider, SandboxError, SandboxProvider
from tests.sandbox.conftest import TEST_LIMITS


def test_it_implements_the_provider_interface(provider: BubblewrapProvider):
    assert isinstance(provider, SandboxProvider)


def test_the_same_labels_reach_the_same_sandbox_even_after_a_restart(sandbox_root: str):
    # given a file written by one worker
    first = BubblewrapProvider(sandbox_root, limits=TEST_LIMITS)
    sandbox = first.get_or_create({"org_id": "acme", "thread_id": "t-1"})
    assert sandbox.execute("echo kept > notes.txt").exit_code == 0

    # when another worker (a fresh provider, nothing in memory) looks for the same labels
    second = BubblewrapProvider(sandbox_root, limits=TEST_LIMITS)
    found = second.find({"thread_id": "t-1", "org_id": "acme"})
    again = second.get_or_create({"org_id": "acme", "thread_id": "t-1"})

    # then
    assert found is not None
    assert found.id == again.id == sandbox.id
    assert found.execute("cat notes.txt").output == "kept\n"
    assert [info.labels for info in second.list_sandboxes()] == [{"org_id": "acme", "thread_id": "t-1"}]


def test_thread_and_assistant_labels_are_separate_sandboxes(provider: BubblewrapProvider):
    # given
    thread_a = provider.get_or_create({"org_id": "acme", "thread_id": "a"})
    thread_b = provider.get_or_create({"org_id": "acme", "thread_id": "b"})
    shared = provider.get_or_create({"org_id": "acme", "assistant_id": "helper"})
    other_org = provider.get_or_create({"org_id": "globex", "thread_id": "a"})

    # when
    thread_a.execute("echo secret-of-a > file")

    # then
    assert len({thread_a.id, thread_b.id, shared.id, other_org.id}) == 4
    for other in (thread_b, shared, other_org):
        assert other.execute("cat file").exit_code == 1


def test_find_does_not_create(provider: BubblewrapProvider):
    assert provider.find({"thread_id": "nobody-asked"}) is None
    assert provider.list_sandboxes() == []


@pytest.mark.parametrize(
    "labels", [{}, {"thread_id": "../escape"}, {"thread id": "x"}, {"thread_id": "a;rm -rf /"}]
)
def test_labels_that_could_reach_a_path_or_shell_are_refused(
    provider: BubblewrapProvider, labels: dict[str, str]
):
    with pytest.raises(SandboxError):
        provider.get_or_create(labels)


def test_cleanup_deletes_only_sandboxes_unused_for_longer_than_their_ttl(sandbox_root: str):
    # given one sandbox used an hour ago and one used now, with a 30 minute TTL
    provider = BubblewrapProvider(sandbox_root, limits=TEST_LIMITS, ttl_seconds=1800)
    stale = provider.get_or_create({"thread_id": "stale"})
    stale.execute("echo old > file")
    fresh = provider.get_or_create({"thread_id": "fresh"})
    hour_ago = time.time() - 3600
    meta = Path(sandbox_root) / stale.id / "meta.json"
    os.utime(meta, (hour_ago, hour_ago))

    # when
    deleted = provider.cleanup_expired()

    # then
    assert deleted == [stale.id]
    assert provider.find({"thread_id": "stale"}) is None
    assert provider.find({"thread_id": "fresh"}) is not None
    assert sorted(p.name for p in Path(sandbox_root).iterdir()) == [fresh.id]
    assert json.loads((Path(sandbox_root) / fresh.id / "meta.json").read_text())["ttl_seconds"] == 1800
    # and the labels start over with an empty sandbox
    assert provider.get_or_create({"thread_id": "stale"}).execute("cat file").exit_code == 1


def test_using_a_sandbox_keeps_it_alive(provider: BubblewrapProvider):
    # given
    sandbox = provider.get_or_create({"thread_id": "t"})
    before = provider.list_sandboxes()[0].last_used_at

    # when
    time.sleep(0.01)
    sandbox.execute("true")

    # then
    assert provider.list_sandboxes()[0].last_used_at > before
    assert provider.cleanup_expired(now=time.time() + 3599) == []
    assert provider.cleanup_expired(now=time.time() + 3601) == [sandbox.id]


def test_delete_removes_files_the_sandbox_locked_itself_out_of(provider: BubblewrapProvider):
    # given
    sandbox = provider.get_or_create({"thread_id": "t"})
    sandbox.execute("mkdir -p locked/deeper && echo x > locked/deeper/f && chmod 000 locked/deeper locked")

    # when / then
    assert provider.delete(sandbox.id) is True
    assert provider.delete(sandbox.id) is False
    assert list(Path(provider.root).iterdir()) == []


def test_workers_racing_to_create_the_same_sandbox_get_one(provider: BubblewrapProvider):
    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: provider.get_or_create({"thread_id": "busy"}).id, range(16)))

    # then
    assert len(set(ids)) == 1
    assert [p.name for p in Path(provider.root).iterdir()] == [ids[0]]


_CUSTOM: list[BubblewrapProvider] = []


def custom_provider() -> BubblewrapProvider:
    return _CUSTOM[0]


def test_the_worker_uses_the_provider_named_in_the_environment(sandbox_root, monkeypatch):
    # given: a deployment naming its own provider factory
    import atrium_agents.sandbox.run_scoped as run_scoped

    _CUSTOM[:] = [BubblewrapProvider(sandbox_root, ttl_seconds=60)]
    monkeypatch.setattr(run_scoped, "_default_provider", None)
    monkeypatch.setenv("ATRIUM_SANDBOX_PROVIDER", f"{__name__}:custom_provider")

    # when / then
    assert run_scoped.default_provider() is _CUSTOM[0]
    assert run_scoped.default_provider() is _CUSTOM[0]
