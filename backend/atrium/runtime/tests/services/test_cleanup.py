"""Thread TTLs: expired threads are deleted or pruned to their newest checkpoint; busy ones wait."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from atrium.runtime.models import Thread, ThreadStatus
from atrium.runtime.services.cleanup import threads_expire


def _thread(org, *, minutes_ago: float, strategy: str, status: str = ThreadStatus.IDLE) -> Thread:
    return Thread.unscoped.create(
        org=org,
        status=status,
        ttl_minutes=30,
        ttl_strategy=strategy,
        expires_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def _checkpoint(thread: Thread, checkpoint_id: str) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint, metadata) "
            "VALUES (%s, '', %s, %s, '{}')",
            [str(thread.id), checkpoint_id, json.dumps({"v": 1})],
        )


def _checkpoint_ids(thread: Thread) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT checkpoint_id FROM checkpoints WHERE thread_id = %s ORDER BY 1", [str(thread.id)])
        return [row[0] for row in cur.fetchall()]


@pytest.mark.django_db
def test_expired_threads_are_deleted_with_their_checkpoints(org):
    expired = _thread(org, minutes_ago=1, strategy="delete")
    _checkpoint(expired, "1ef00000-0000-6000-8000-000000000001")
    alive = _thread(org, minutes_ago=-10, strategy="delete")

    assert threads_expire() == {"deleted": 1, "pruned": 0}

    assert not Thread.unscoped.filter(id=expired.id).exists()
    assert _checkpoint_ids(expired) == []
    assert Thread.unscoped.filter(id=alive.id).exists()


@pytest.mark.django_db
def test_keep_latest_prunes_history_and_restarts_the_ttl(org):
    thread = _thread(org, minutes_ago=1, strategy="keep_latest")
    for n in (1, 2, 3):
        _checkpoint(thread, f"1ef00000-0000-6000-8000-00000000000{n}")

    assert threads_expire() == {"deleted": 0, "pruned": 1}

    thread.refresh_from_db()
    assert _checkpoint_ids(thread) == ["1ef00000-0000-6000-8000-000000000003"]
    assert thread.expires_at > timezone.now() + timedelta(minutes=29)


@pytest.mark.django_db
def test_busy_threads_wait_for_their_runs(org):
    busy = _thread(org, minutes_ago=5, strategy="delete", status=ThreadStatus.BUSY)

    assert threads_expire() == {"deleted": 0, "pruned": 0}
    assert Thread.unscoped.filter(id=busy.id).exists()
