"""An org's rate limits: API requests and run creations per minute, per org and per member. Values
come from the org's `OrgSettings` row (edited in the Django admin) or, where it leaves one blank, from
the deployment's `ATRIUM_RATE_*` settings; 0 is unlimited.

They are read on every request, so each process keeps them for `ATRIUM_LIMITS_CACHE_SECONDS`: an
admin's change applies everywhere within that time. (The concurrent-run cap, from the same row or
`ATRIUM_MAX_CONCURRENT_RUNS`, is read by the worker's claim itself: `atrium_run_claim`.)
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from django.conf import settings

from atrium.core.ratelimit import Bucket, RateLimitedError, atake, retry_seconds, take
from atrium.core.tenancy import Scope
from atrium.orgs.selectors import org_settings_get


@dataclass(frozen=True)
class OrgLimits:
    api_per_minute: int
    api_per_minute_per_user: int
    runs_per_minute: int
    runs_per_minute_per_user: int


_cache: dict[uuid.UUID, tuple[float, OrgLimits]] = {}


def org_limits(*, org_id: uuid.UUID) -> OrgLimits:
    cached = org_limits_cached(org_id=org_id)
    if cached is not None:
        return cached
    row = org_settings_get(org_id=org_id)

    def pick(field: str, default: int) -> int:
        value = getattr(row, field) if row is not None else None
        return default if value is None else int(value)

    limits = OrgLimits(
        api_per_minute=pick("api_requests_per_minute", settings.ATRIUM_RATE_API_PER_MINUTE),
        api_per_minute_per_user=pick(
            "api_requests_per_minute_per_user", settings.ATRIUM_RATE_API_PER_MINUTE_PER_USER
        ),
        runs_per_minute=pick("runs_per_minute", settings.ATRIUM_RATE_RUNS_PER_MINUTE),
        runs_per_minute_per_user=pick(
            "runs_per_minute_per_user", settings.ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER
        ),
    )
    _cache[org_id] = (time.monotonic() + settings.ATRIUM_LIMITS_CACHE_SECONDS, limits)
    return limits


def org_limits_forget(*, org_id: uuid.UUID | None = None) -> None:
    """Drop cached limits (all, or one org's): tests, and an admin's save in this process."""
    if org_id is None:
        _cache.clear()
    else:
        _cache.pop(org_id, None)


def org_limits_cached(*, org_id: uuid.UUID) -> OrgLimits | None:
    """The org's limits if this process holds them (no database read), else None."""
    cached = _cache.get(org_id)
    return cached[1] if cached is not None and cached[0] > time.monotonic() else None


def _buckets(scope: Scope, kind: str, *, org_limit: int, user_limit: int) -> list[Bucket]:
    buckets = [Bucket(f"{kind}:org:{scope.org}", org_limit)]
    if scope.user_id is not None:
        buckets.append(Bucket(f"{kind}:user:{scope.org}:{scope.user_id}", user_limit))
    return buckets


def _refuse_if_waiting(wait: float, *, org_limit: int, user_limit: int, what: str) -> None:
    if wait > 0:
        seconds = retry_seconds(wait)
        limits = [f"{user_limit} per member"] if user_limit else []
        limits += [f"{org_limit} for the organisation"] if org_limit else []
        raise RateLimitedError(
            f"Rate limit exceeded: {what} per minute are limited to {' and '.join(limits)}. "
            f"Retry after {seconds} s.",
            retry_after=seconds,
        )


def _enforce(scope: Scope, kind: str, *, org_limit: int, user_limit: int, what: str) -> None:
    wait = take(_buckets(scope, kind, org_limit=org_limit, user_limit=user_limit))
    _refuse_if_waiting(wait, org_limit=org_limit, user_limit=user_limit, what=what)


def api_request_allow(scope: Scope) -> None:
    """Count one API request of the scope's member and org; RateLimitedError (429) past a limit."""
    if scope.system or scope.org_id is None:
        return
    limits = org_limits(org_id=scope.org_id)
    _enforce(
        scope,
        "api",
        org_limit=limits.api_per_minute,
        user_limit=limits.api_per_minute_per_user,
        what="API requests",
    )


async def api_request_allow_async(scope: Scope, limits: OrgLimits) -> None:
    """`api_request_allow` from async code, with the org's limits at hand (`org_limits_cached`)."""
    if scope.system or scope.org_id is None:
        return
    org_limit, user_limit = limits.api_per_minute, limits.api_per_minute_per_user
    wait = await atake(_buckets(scope, "api", org_limit=org_limit, user_limit=user_limit))
    _refuse_if_waiting(wait, org_limit=org_limit, user_limit=user_limit, what="API requests")


def run_create_allow(scope: Scope) -> None:
    """Count one run created by the scope's member (API or cron); RateLimitedError past a limit."""
    if scope.system or scope.org_id is None:
        return
    limits = org_limits(org_id=scope.org_id)
    _enforce(
        scope,
        "runs",
        org_limit=limits.runs_per_minute,
        user_limit=limits.runs_per_minute_per_user,
        what="new runs",
    )
