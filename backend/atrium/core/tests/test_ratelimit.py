"""Token buckets in the real Redis: bursts up to the limit, refusals that say how long to wait, and
several buckets taken all or none."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from atrium.core import ratelimit
from atrium.core.ratelimit import Bucket, RateLimitedError, atake, retry_seconds, take


def fresh(limit: int, period: float = 60.0) -> Bucket:
    return Bucket(f"test:{uuid.uuid4()}", limit, period)


def test_a_bucket_allows_a_burst_of_its_limit_then_refuses():
    bucket = fresh(3)
    assert [take([bucket]) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = take([bucket])
    # one token comes back every 60/3 = 20 s
    assert 0 < wait <= 20


def test_a_refused_take_spends_nothing_from_the_other_buckets():
    small, large = fresh(1), fresh(5)
    assert take([small, large]) == 0.0
    assert take([small, large]) > 0  # small is empty: large keeps its 4 tokens
    assert [take([large]) for _ in range(4)] == [0.0] * 4
    assert take([large]) > 0


def test_zero_means_unlimited():
    unlimited = Bucket(f"test:{uuid.uuid4()}", 0)
    assert all(take([unlimited]) == 0.0 for _ in range(50))


def test_retry_after_is_whole_seconds_of_at_least_one():
    assert retry_seconds(0.01) == 1
    assert retry_seconds(19.2) == 20
    error = RateLimitedError("slow down", retry_after=2.5)
    assert (error.status_code, error.code, error.retry_after, error.extra) == (
        429,
        "rate_limited",
        3,
        {"retry_after": 3},
    )


@pytest.mark.parametrize("period", [1.0, 3600.0])
def test_buckets_of_any_period(period):
    bucket = fresh(2, period)
    assert take([bucket]) == 0.0
    assert take([bucket]) == 0.0
    assert 0 < take([bucket]) <= period / 2


def test_async_takes_share_the_buckets_of_sync_ones():
    bucket = fresh(3)
    assert asyncio.run(atake([bucket])) == 0.0
    assert [take([bucket]) for _ in range(2)] == [0.0, 0.0]
    assert asyncio.run(atake([bucket])) > 0
    assert asyncio.run(atake([Bucket(f"test:{uuid.uuid4()}", 0)])) == 0.0  # unlimited


def test_a_burst_of_concurrent_async_takes_is_held_to_the_limit():
    # given a bucket of 10 and 300 requests of one process taking from it at the same instant (more
    # than a default Redis pool's 100 connections)
    bucket = fresh(10)

    async def burst() -> list[float]:
        return await asyncio.gather(*(atake([bucket]) for _ in range(300)))

    waits = asyncio.run(burst())

    # then exactly 10 got through: none was let through because the pool ran out of connections
    assert sum(1 for wait in waits if wait == 0.0) == 10


def test_without_redis_requests_are_let_through(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    ratelimit._script.cache_clear()
    try:
        assert take([fresh(1)]) == 0.0
        assert asyncio.run(atake([fresh(1)])) == 0.0
    finally:
        ratelimit._script.cache_clear()
