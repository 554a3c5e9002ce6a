"""Issue 20, TTLs: a store item's TTL (its own, from `PUT /store/items`, or the project's
`store.ttl.default_ttl`) is enforced — the item is gone for readers once it expires, and the beat
sweep deletes it — and `checkpointer.ttl` deletes threads idle for longer than its `default_ttl`.
Before, TTLs were stored and never enforced, and `store.ttl` / `checkpointer.ttl` were not read.

The project (`ttl_project/langgraph.json`) sets a default item TTL of 0.02 minutes (1.2 s), no refresh
on read, an idle-thread TTL of 5 minutes, and sweeps every 0.01 minutes.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import Member
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from atrium.assistants.graphs import registry
from atrium.core.tenancy import scoped
from atrium.runtime.engine import GraphLoadError, GraphRegistry
from atrium.runtime.models import Thread
from atrium.runtime.services.cleanup import threads_expire
from atrium.runtime.services.store import store_ttl_sweep
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.agent_api import agent_loop, send
from atrium.runtime.tests.conformance.conftest import XDIST_INDEX, _database_url, _redis_url, _start, _stop

PROJECT = Path(__file__).resolve().parent / "ttl_project" / "langgraph.json"
EXPIRES = 1.5  # seconds: past the project's 0.02-minute default TTL
# Its own Redis database per pytest-xdist worker, clear of the live stack's (11 down) and the crons
# beats' (12 up).
REDIS_DB = 14 + XDIST_INDEX
SWEPT_THREADS = "Sending due task threads-expire"


@pytest.fixture(autouse=True)
def ttl_project(settings: Any) -> Iterator[None]:
    settings.ATRIUM_GRAPHS = PROJECT
    registry.cache_clear()
    yield
    registry.cache_clear()


def _stored(key: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM store WHERE key = %s", [key])
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_expired_store_items_are_not_read_and_are_swept(members: dict[str, Member], api_key_for: Any) -> None:
    who = {"HTTP_X_API_KEY": api_key_for(members["editor"])}
    namespace = ["memories", "ttl"]

    def put(key: str, **extra: Any) -> None:
        body = {"namespace": namespace, "key": key, "value": {"k": key}, **extra}
        assert send(Client(), "PUT", "/store/items", body, **who).status_code == 204

    def get(key: str) -> Any:
        found = Client().get("/agent/store/items", {"namespace": ".".join(namespace), "key": key}, **who)
        assert found.status_code == 200, found.content
        return found.json()

    def listed() -> list[str]:
        found = send(Client(), "POST", "/store/items/search", {"namespace_prefix": namespace}, **who)
        return sorted(item["key"] for item in found.json()["items"])

    # Given an item with its own short TTL, one with the project's default and one with a long TTL
    put("own", ttl=0.02)
    put("default")
    put("kept", ttl=60)
    assert get("own") is not None
    assert listed() == ["default", "kept", "own"]

    # When their TTLs pass (reads do not refresh them: refresh_on_read is false)
    time.sleep(EXPIRES)

    # Then the expired ones are gone for readers, before any sweep
    assert get("own") is None
    assert get("default") is None
    assert listed() == ["kept"]
    assert _stored("own") == 1

    # And the sweep deletes exactly them
    assert store_ttl_sweep() >= 2
    assert (_stored("own"), _stored("default"), _stored("kept")) == (0, 0, 1)
    assert get("kept")["value"] == {"k": "kept"}


@pytest.mark.django_db(transaction=True)
def test_checkpointer_ttl_deletes_threads_idle_past_the_default_ttl(members: dict[str, Member]) -> None:
    with scoped(members["editor"].scope()):
        idle, _ = thread_create()
        active, _ = thread_create()
        own_ttl, _ = thread_create(ttl={"ttl": 60, "strategy": "delete"})
    # Given one thread untouched for 6 minutes, one touched now, one idle but with its own longer TTL
    long_ago = timezone.now() - timedelta(minutes=6)
    Thread.unscoped.filter(id__in=[idle.id, own_ttl.id]).update(updated_at=long_ago)

    # When the sweep runs
    result = threads_expire()

    # Then only the idle thread without a TTL of its own is deleted
    assert result["deleted"] == 1
    remaining = set(Thread.unscoped.values_list("id", flat=True))
    assert idle.id not in remaining
    assert {active.id, own_ttl.id} <= remaining


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"store": {"ttl": {"default_ttl": -1}}}, "store.ttl.default_ttl"),
        ({"store": {"ttl": {"refresh_on_read": "yes"}}}, "store.ttl.refresh_on_read"),
        ({"checkpointer": {"ttl": {"strategy": "archive", "default_ttl": 5}}}, "checkpointer.ttl.strategy"),
        ({"checkpointer": {"ttl": {"default_ttl": "5"}}}, "checkpointer.ttl.default_ttl"),
        ({"store": {"ttl": 5}}, "store.ttl"),
    ],
)
def test_a_ttl_the_agent_server_would_refuse_stops_the_start(
    tmp_path: Path, section: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": {}, **section}))
    with pytest.raises(GraphLoadError, match=re.escape(problem)):
        GraphRegistry.from_file(path)


@pytest.mark.django_db(transaction=True)
def test_beat_sweeps_at_the_projects_intervals(members: dict[str, Member], tmp_path: Path) -> None:
    # Given a store item already past its TTL and a real beat and worker running the project
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO store (prefix, key, value, created_at, updated_at, expires_at, ttl_minutes) "
            "VALUES ('beat.test', 'stale', '{}', now(), now(), now() - interval '1 minute', 1)"
        )
    redis_url = _redis_url(settings.REDIS_URL, REDIS_DB)
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(connections["default"].settings_dict),
        "REDIS_URL": redis_url,
        "ATRIUM_DB_POOL": "false",
        "ATRIUM_GRAPHS": str(PROJECT),
        "PYTHONUNBUFFERED": "1",
    }
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    worker = _start(
        "worker",
        [
            *celery,
            "worker",
            "-Q",
            "default",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "-l",
            "WARNING",
            "-n",
            f"ttl-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        tmp_path,
    )
    beat = _start("beat", [*celery, "beat", "-l", "INFO", "-s", str(tmp_path / "schedule")], env, tmp_path)
    log = tmp_path / "beat.log"
    try:
        deadline = time.monotonic() + 60
        while _stored("stale") and time.monotonic() < deadline:
            time.sleep(0.2)
        # When beat has run for a few of the project's 0.6-second intervals
        while (
            time.monotonic() < deadline
            and len(re.findall("Sending due task threads-expire", log.read_text())) < 3
        ):
            time.sleep(0.2)
        text = log.read_text(errors="replace")
    finally:
        for process in (beat, worker):
            _stop(process)
        connections.close_all()
    # Then both sweeps ran at the project's interval, and the expired item was deleted
    assert len(re.findall(r"Sending due task store-ttl-sweep", text)) >= 2, text[-2000:]
    assert len(re.findall(SWEPT_THREADS, text)) >= 3, text[-2000:]
    assert _stored("stale") == 0
