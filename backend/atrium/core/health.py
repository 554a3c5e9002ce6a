"""Operator endpoints: liveness, readiness and Prometheus metrics, outside the APIs and their auth.

`/healthz` answers 200 while the process serves requests (it touches nothing else), `/readyz` 200 only
when Postgres and Redis both answer and every registered check passes (503 naming what failed
otherwise), so an orchestrator restarts a
wedged process on the first and holds traffic from one that cannot work on the second. `/metrics` is
for the operator's scraper: with `ATRIUM_METRICS_TOKEN` set it needs `Authorization: Bearer <token>`;
without, it answers loopback clients only.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from atrium.core.metrics import redis_client, registry

logger = logging.getLogger(__name__)


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _postgres_ok() -> bool:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            return bool(cur.fetchone() == (1,))
    except DatabaseError:
        logger.warning("readiness: Postgres unreachable", exc_info=True)
        return False


def _redis_ok() -> bool:
    try:
        return bool(redis_client().ping())
    except redis.RedisError:
        logger.warning("readiness: Redis unreachable", exc_info=True)
        return False


# Readiness checks of upper layers, by name: each answers ok (True), failed (False), or None when it
# does not apply to this deployment (left out of the answer). E.g. `auth_handlers`: the Agent Server
# API's custom auth module loaded (config.custom_auth), without which every API request is refused.
READINESS_CHECKS: dict[str, Callable[[], bool | None]] = {}


@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"postgres": _postgres_ok(), "redis": _redis_ok()}
    for name, check in READINESS_CHECKS.items():
        outcome = check()
        if outcome is not None:
            checks[name] = outcome
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {name: "ok" if ok else "failed" for name, ok in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.ATRIUM_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        # Not 401/403: an unauthorised caller learns nothing, not even that the endpoint exists.
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
