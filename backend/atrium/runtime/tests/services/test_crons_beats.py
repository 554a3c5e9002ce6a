"""Two real `celery beat` processes and a real worker against the test database: every due cron fires
exactly once, however many ticks the two beats send."""

from __future__ import annotations

import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connections
from django.utils import timezone

from atrium.core.tenancy import scoped
from atrium.runtime.models import Cron, Run
from atrium.runtime.services.crons import cron_create
from atrium.runtime.tests.conformance.conftest import XDIST_INDEX, _database_url, _redis_url, _start, _stop

# One Redis database per pytest-xdist worker (see conformance/conftest.py).
REDIS_DB = int(os.environ.get("ATRIUM_BEATS_TEST_REDIS_DB", "12")) + XDIST_INDEX
SENT = re.compile(r"Sending due task crons-tick")


def sent_ticks(log: Path) -> int:
    return len(SENT.findall(log.read_text(errors="replace"))) if log.exists() else 0


@pytest.mark.django_db(transaction=True)
def test_two_beats_fire_each_due_cron_once(editor, tmp_path):
    # given three crons that are due now and not again this year
    with scoped(editor.scope()):
        crons = [
            cron_create(assistant_id="echo", schedule="0 0 1 1 *", payload={"input": {"n": i}})
            for i in range(3)
        ]
    Cron.unscoped.update(next_run_date=timezone.now() - timedelta(minutes=1))
    redis_url = _redis_url(settings.REDIS_URL, REDIS_DB)
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(connections["default"].settings_dict),
        "REDIS_URL": redis_url,
        "ATRIUM_DB_POOL": "false",
        "ATRIUM_CRONS_TICK_SECONDS": "0.5",
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
            "4",
            "-l",
            "WARNING",
            "-n",
            f"beats-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        tmp_path,
    )
    # when two beats run side by side
    beats = [
        _start(
            f"beat{i}", [*celery, "beat", "-l", "INFO", "-s", str(tmp_path / f"schedule{i}")], env, tmp_path
        )
        for i in range(2)
    ]
    logs = [tmp_path / f"beat{i}.log" for i in range(2)]
    try:
        deadline = time.monotonic() + 90
        while Run.unscoped.count() < len(crons) and time.monotonic() < deadline:
            time.sleep(0.2)
        # and both keep ticking for a while after the crons fired
        seen = [sent_ticks(log) for log in logs]
        while any(sent_ticks(log) < n + 2 for log, n in zip(logs, seen)) and time.monotonic() < deadline:
            time.sleep(0.2)
        ticks = [sent_ticks(log) for log in logs]
    finally:
        for process in (*beats, worker):
            _stop(process)
        connections.close_all()
    # then both beats sent ticks, and each cron made exactly one run
    assert all(n >= 2 for n in ticks), ticks
    runs = list(Run.unscoped.all())
    assert sorted(r.metadata["cron_id"] for r in runs) == sorted(str(c.id) for c in crons)
    assert sorted(r.kwargs["input"]["n"] for r in runs) == [0, 1, 2]
