"""Histograms count in the process and reach Redis (where every process's scrape reads them) in a
flush: the figures stored are Prometheus' cumulative buckets, whatever the order of observations."""

from __future__ import annotations

import threading
import time

import pytest

from atrium.core import metrics


def _stored(histogram: metrics.Histogram) -> dict[str, float]:
    raw = metrics.redis_client().hgetall(histogram.key)
    return {k.decode(): float(v) for k, v in raw.items()}


def test_a_flush_stores_cumulative_buckets_and_the_sum():
    histogram = metrics.Histogram("atrium_test_flush_seconds", "test", buckets=(0.1, 1, 10), label="status")
    try:
        metrics.redis_client().delete(histogram.key)
        # given observations below, on and above the bounds, under two labels
        for value in (0.05, 0.1, 0.5, 5, 50):
            histogram.observe(value, "success")
        histogram.observe(2, "error")

        metrics.flush()

        stored = _stored(histogram)
        assert {k: v for k, v in stored.items() if k.startswith("success|")} == {
            "success|0.1": 2,
            "success|1": 3,
            "success|10": 4,
            "success|+Inf": 5,
            "success|sum": pytest.approx(55.65),
        }
        assert {k: v for k, v in stored.items() if k.startswith("error|")} == {
            "error|10": 1,
            "error|+Inf": 1,
            "error|sum": 2,
        }
        # and a second flush adds only what was observed since
        histogram.observe(0.01, "success")
        metrics.flush()
        assert _stored(histogram)["success|0.1"] == 3
        assert _stored(histogram)["success|+Inf"] == 6
    finally:
        metrics._metrics.remove(histogram)
        metrics.redis_client().delete(histogram.key)


def test_the_flusher_thread_sends_observations_without_a_scrape(monkeypatch):
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 0.05)
    histogram = metrics.Histogram("atrium_test_flusher_seconds", "test", buckets=(1,), label="status")
    try:
        metrics.redis_client().delete(histogram.key)
        histogram.observe(0.5, "success")
        deadline = time.monotonic() + 5
        while not _stored(histogram) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _stored(histogram) == {"success|1": 1, "success|+Inf": 1, "success|sum": 0.5}
        assert any(t.name == "atrium-metrics-flush" for t in threading.enumerate())
    finally:
        metrics._metrics.remove(histogram)
        metrics.redis_client().delete(histogram.key)
