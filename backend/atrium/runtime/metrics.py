"""The runtime's metrics computed at scrape time: runs by status (Postgres) and queue depth (Redis).
Each finished run's latency is observed by `lifecycle.finish`, from the statement that ends the run."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from django.db import DatabaseError, connection
from prometheus_client.core import GaugeMetricFamily, Metric

from atrium.core.metrics import redis_client, register_collector
from atrium.runtime.dispatch import RUNS_QUEUE, WEBHOOKS_QUEUE
from atrium.runtime.models import RunStatus

logger = logging.getLogger(__name__)
QUEUES = (RUNS_QUEUE, "default", WEBHOOKS_QUEUE)


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


register_collector(runs_by_status)
register_collector(queue_depth)
