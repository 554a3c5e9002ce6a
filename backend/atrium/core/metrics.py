"""Prometheus metrics that hold across processes and hosts.

Web processes, Celery workers and beat are separate processes (often on separate hosts), so counters
and histograms live in Redis, not in process memory: incrementing a counter is one Redis command, a
histogram's observations reach Redis within a second (`Histogram`), and whichever web process answers
`/metrics` reports the whole deployment's totals. Figures that Postgres or Redis
already know (runs by status, queue depth) are computed at scrape time by collectors registered with
`register_collector` (see atrium/runtime/metrics.py).

Other parts import the metric they feed, e.g. the credentials code after a token refresh:

    from atrium.core.metrics import token_refreshes
    token_refreshes.inc(provider="github", outcome="ok")

A metric update never raises: losing a sample is better than failing the request or run it measures.
"""

from __future__ import annotations

import atexit
import bisect
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import redis
from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

logger = logging.getLogger(__name__)
PREFIX = "atrium:metrics:"
_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client() -> redis.Redis:
    url = settings.REDIS_URL
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            _clients[url] = client
        return client


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _label_key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _parse_labels(key: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in key.split(",") if "=" in part)


def _safe(action: Callable[[], Any], what: str) -> None:
    try:
        action()
    except redis.RedisError:
        logger.warning("metric %s not recorded: Redis unavailable", what)


class Counter:
    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, labelnames
        self.key = f"{PREFIX}counter:{name}"
        _metrics.append(self)

    def inc(self, amount: float = 1, **labels: str) -> None:
        field = _label_key({k: str(labels.get(k, "")) for k in self.labelnames})
        _safe(lambda: redis_client().hincrbyfloat(self.key, field, amount), self.name)

    def collect(self, client: redis.Redis) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=list(self.labelnames))
        for field, value in client.hgetall(self.key).items():
            labels = _parse_labels(_text(field))
            family.add_metric([labels.get(k, "") for k in self.labelnames], float(value))
        yield family


class Histogram:
    """Observations are counted in the process and added to the shared figures in Redis by a
    background flush every FLUSH_SECONDS (one pipeline for everything observed meanwhile), so a hot
    path (each run's end) pays no Redis round trip. A process killed outright loses at most that
    last second of samples."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...], label: str) -> None:
        self.name, self.documentation, self.buckets, self.label = name, documentation, buckets, label
        self.key = f"{PREFIX}histogram:{name}"
        # label value -> observations per bucket (the last one +Inf), then their sum; not yet in Redis
        self._pending: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        _metrics.append(self)

    def observe(self, value: float, label_value: str) -> None:
        with self._lock:
            row = self._pending.get(label_value)
            if row is None:
                row = self._pending[label_value] = [0] * (len(self.buckets) + 2)
            row[bisect.bisect_left(self.buckets, value)] += 1  # the first bucket with value <= bound
            row[-1] += value
        _flusher.ensure_running()

    def flush(self, pipe: Any) -> None:
        """Queue the pending observations on `pipe`, as Redis keeps them: cumulative bucket counts."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for label_value, row in pending.items():
            cumulative = 0
            for bound, count in zip(self.buckets, row, strict=False):
                cumulative += int(count)
                if cumulative:
                    pipe.hincrby(self.key, f"{label_value}|{bound}", cumulative)
            pipe.hincrby(self.key, f"{label_value}|+Inf", cumulative + int(row[-2]))
            pipe.hincrbyfloat(self.key, f"{label_value}|sum", row[-1])

    def collect(self, client: redis.Redis) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=[self.label])
        raw = {_text(k): float(v) for k, v in client.hgetall(self.key).items()}
        for label_value in sorted({key.split("|", 1)[0] for key in raw}):
            buckets = [(str(b), raw.get(f"{label_value}|{b}", 0.0)) for b in self.buckets]
            buckets.append(("+Inf", raw.get(f"{label_value}|+Inf", 0.0)))
            family.add_metric([label_value], buckets, raw.get(f"{label_value}|sum", 0.0))
        yield family


class LiveSet:
    """A gauge of things that are open right now across processes (e.g. stream clients): each member
    is held with an expiry its holder renews, so a process that dies takes its members with it after
    `ttl` seconds."""

    def __init__(self, name: str, documentation: str, ttl: float = 30.0) -> None:
        self.name, self.documentation, self.ttl = name, documentation, ttl
        self.key = f"{PREFIX}live:{name}"
        _metrics.append(self)

    def new_member(self) -> str:
        return uuid.uuid4().hex

    async def aenter(self, member: str, client: Any) -> None:
        try:
            await client.zadd(self.key, {member: time.time() + self.ttl})
        except redis.RedisError:
            logger.warning("metric %s not recorded: Redis unavailable", self.name)

    async def aleave(self, member: str, client: Any) -> None:
        try:
            await client.zrem(self.key, member)
        except redis.RedisError:
            logger.warning("metric %s not recorded: Redis unavailable", self.name)

    def collect(self, client: redis.Redis) -> Iterator[Metric]:
        client.zremrangebyscore(self.key, "-inf", time.time())
        yield GaugeMetricFamily(self.name, self.documentation, value=float(client.zcard(self.key)))


_metrics: list[Counter | Histogram | LiveSet] = []
_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add figures computed at scrape time (from Postgres, Redis...)."""
    if collect not in _collectors:
        _collectors.append(collect)


FLUSH_SECONDS = 1.0


def flush() -> None:
    """Send this process's pending observations to Redis (the flusher does so every FLUSH_SECONDS)."""
    pipe = redis_client().pipeline(transaction=False)
    for metric in _metrics:
        if isinstance(metric, Histogram):
            metric.flush(pipe)
    if len(pipe):
        _safe(pipe.execute, "flush")


class _Flusher:
    """One daemon thread per process that flushes the histograms; started by the first observation
    (and again in a forked child, which does not inherit threads)."""

    def __init__(self) -> None:
        self.pid = 0
        self.lock = threading.Lock()

    def ensure_running(self) -> None:
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid != os.getpid():
                threading.Thread(target=self._loop, name="atrium-metrics-flush", daemon=True).start()
                self.pid = os.getpid()

    def _loop(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                flush()
            except Exception:  # never let the thread die: the next flush sends what is pending
                logger.warning("metrics flush failed", exc_info=True)


_flusher = _Flusher()
atexit.register(flush)


class _Scrape(Collector):
    def collect(self) -> Iterator[Metric]:
        flush()  # this process's own recent observations count too
        client = redis_client()
        for metric in _metrics:
            try:
                yield from metric.collect(client)
            except redis.RedisError:
                logger.warning("metric %s not collected: Redis unavailable", metric.name)
        for collect in _collectors:
            yield from collect()


def registry() -> CollectorRegistry:
    """A fresh registry per scrape (nothing of it lives in process memory)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Scrape())
    return reg


def reset_for_tests() -> None:
    for metric in _metrics:
        if isinstance(metric, Histogram):
            metric._pending.clear()
    client = redis_client()
    for key in client.scan_iter(f"{PREFIX}*"):
        client.delete(key)


# The metrics other parts feed. Defined here so any app can import them without importing another app.
token_refreshes = Counter(
    "atrium_token_refreshes_total",
    "OAuth token refreshes, by provider and outcome (ok, failed).",
    labelnames=("provider", "outcome"),
)
run_latency = Histogram(
    "atrium_run_latency_seconds",
    "Time from a run's creation to its end (queueing included), by final status.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    label="status",
)
stream_clients = LiveSet("atrium_stream_clients", "Event-stream (SSE) clients connected now.")
# Usage and budgets (atrium.usage). Labels stay bounded: orgs and assistants, never users.
model_tokens = Counter(
    "atrium_model_tokens_total",
    "Model tokens used by runs, by org, assistant and kind (input, output, cached_input; input includes "
    "cached_input).",
    labelnames=("org", "assistant", "kind"),
)
model_cost = Counter(
    "atrium_model_cost_total",
    "Cost of model calls by org and assistant, in the price table's currency (priced models only).",
    labelnames=("org", "assistant"),
)
budget_exceeded = Counter(
    "atrium_budget_exceeded_total",
    "Runs refused (at=run_start) or stopped (at=model_call) by a spent budget, by org and budget scope.",
    labelnames=("org", "scope", "at"),
)
