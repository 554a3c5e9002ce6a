"""The runtime's metrics: runs by status and queue depth (computed at scrape time from Postgres and
Redis), and each finished run's latency (recorded by the worker that finished it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from django.db import DatabaseError, connection
from prometheus_client.core import GaugeMetricFamily, Metric

from atrium.core.metrics import redis_client, register_collector, run_latency
from atrium.runtime.dispatch import RUNS_QUEUE
from atrium.runtime.models import RunStatus

logger = logging.getLogger(__name__)
QUEUES = (RUNS_QUEUE, "default")


def runs_by_status() -> Iterator[Metric]:
    family = GaugeMetricFamily("atrium_runs", "Runs stored now, by status (every org).", labels=["status"])
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT status, count(*) FROM runtime_run GROUP BY status")
            counts = dict(cur.fetchall())
    except DatabaseError:
        logger.warning("atrium_runs not collected: database unavailable")
        return
    for status in RunStatus.values:
        family.add_metric([status], float(counts.get(status, 0)))
    yield family


def queue_depth() -> Iterator[Metric]:
    """Messages waiting in each Celery queue (the broker's lists; a delayed run waits unacknowledged
    in a worker, not here, so it is not counted)."""
    family = GaugeMetricFamily("atrium_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"])
    try:
        client = redis_client()
        for queue in QUEUES:
            family.add_metric([queue], float(client.llen(queue)))
    except redis.RedisError:
        logger.warning("atrium_queue_depth not collected: Redis unavailable")
        return
    yield family


def record_run_end(*, run_id: str, status: str) -> None:
    """Observe a finished run's latency (creation to end), read back from its row."""
    try:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT extract(epoch FROM ended_at - created_at) FROM runtime_run "
                "WHERE id = %s AND ended_at IS NOT NULL",
                [run_id],
            )
            row = cur.fetchone()
    except DatabaseError:
        return
    if row is not None and row[0] is not None:
        run_latency.observe(float(row[0]), status)


register_collector(runs_by_status)
register_collector(queue_depth)
