"""Operator endpoints: /healthz, /readyz (Postgres and Redis really reachable, or 503), /metrics."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connections
from django.test import Client

from atrium.core import metrics


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_clients() -> Iterator[None]:
    """Metric clients are cached per URL; a test that changes REDIS_URL gets its own."""
    yield
    metrics._clients.clear()


def test_healthz_answers_without_touching_anything():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_postgres_and_redis_answer():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "redis": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_when_redis_is_unreachable(settings, redis_clients):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"postgres": "ok", "redis": "failed"}


def test_readyz_is_503_when_postgres_is_unreachable(django_db_blocker):
    connection = connections["default"]
    with django_db_blocker.unblock():
        connection.close()
        saved = dict(connection.settings_dict)
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
        try:
            response = Client().get("/readyz")
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json()["checks"] == {"postgres": "failed", "redis": "ok"}


def scrape(client: Client | None = None, **headers: str) -> tuple[int, str]:
    response = (client or Client()).get("/metrics", **headers)
    return response.status_code, response.content.decode()


def sample(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.django_db
def test_metrics_report_runs_queues_and_the_counters_every_process_feeds(editor):
    from atrium.core.tenancy import scoped
    from atrium.runtime.services.runs import RunCreate, run_create
    from atrium.runtime.services.threads import thread_create

    # given a baseline scrape
    _, before = scrape()
    # when a run is created (pending), a token refresh is counted and a run's latency observed
    with scoped(editor.scope()):
        thread, _ = thread_create()
        run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    metrics.token_refreshes.inc(provider="github", outcome="ok")
    metrics.run_latency.observe(0.3, "success")
    status, after = scrape()

    # then the scrape shows them, computed from Postgres and Redis
    assert status == 200
    assert (
        sample(after, 'atrium_runs{status="pending"}') == sample(before, 'atrium_runs{status="pending"}') + 1
    )
    key = 'atrium_token_refreshes_total{outcome="ok",provider="github"}'
    assert sample(after, key) == sample(before, key) + 1
    count = 'atrium_run_latency_seconds_count{status="success"}'
    assert sample(after, count) == sample(before, count) + 1
    le_half = 'atrium_run_latency_seconds_bucket{le="0.5",status="success"}'
    assert sample(after, le_half) == sample(before, le_half) + 1
    assert 'atrium_queue_depth{queue="runs"}' in after
    assert "atrium_stream_clients " in after


@pytest.mark.django_db
def test_metrics_need_the_token_when_one_is_set(settings):
    settings.ATRIUM_METRICS_TOKEN = "scrape-me"
    assert scrape()[0] == 404
    assert scrape(HTTP_AUTHORIZATION="Bearer wrong")[0] == 404
    assert scrape(HTTP_AUTHORIZATION="Bearer scrape-me")[0] == 200


@pytest.mark.django_db
def test_without_a_token_only_loopback_may_scrape(settings):
    settings.ATRIUM_METRICS_TOKEN = ""
    assert scrape(REMOTE_ADDR="127.0.0.1")[0] == 200
    assert scrape(REMOTE_ADDR="10.1.2.3")[0] == 404
