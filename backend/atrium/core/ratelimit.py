"""Rate limiting in Redis: token buckets, checked and taken atomically by one Lua script.

A bucket holds up to `limit` tokens and refills at `limit / period` per second, so a caller may burst
a whole period's allowance and then continues at the steady rate. `take` checks every bucket it is
given (say the org's and the user's) and takes one token from each only if all have one: a request
refused by the user's bucket does not spend the org's. Time comes from Redis (`TIME`), so web
processes with skewed clocks agree.

If Redis cannot be reached the request is let through and a warning logged: the limiter protects the
platform from a noisy tenant; it must not turn a Redis hiccup into an outage of every API.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
import redis.asyncio
from django.conf import settings

from atrium.core.errors import AtriumError

logger = logging.getLogger(__name__)

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local v = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(v[1])
  local ts = tonumber(v[2])
  if tokens == nil then
    tokens = cap
    ts = now
  end
  tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
  levels[i] = tokens
  if tokens < 1 then
    local w = (1 - tokens) / rate
    if w > wait then wait = w end
  end
end
if wait > 0 then
  return tostring(wait)
end
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tokens', tostring(levels[i] - 1), 'ts', tostring(now))
  redis.call('EXPIRE', key, math.ceil(cap / rate) + 1)
end
return '0'
"""


class RateLimitedError(AtriumError):
    """Too many requests: both APIs answer 429 with `Retry-After` (whole seconds)."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        self.retry_after = retry_seconds(retry_after)
        super().__init__(message, extra={"retry_after": self.retry_after})


def retry_seconds(wait: float) -> int:
    """A wait as the whole seconds of a `Retry-After` header (at least 1)."""
    return max(1, math.ceil(wait))


@dataclass(frozen=True)
class Bucket:
    key: str
    limit: int
    period: float = 60.0


@lru_cache(maxsize=1)
def _script() -> Any:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    return client.register_script(_TAKE)


# One async client per event loop: asyncio Redis connections belong to the loop that opened them.
_async_scripts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


def _async_script() -> Any:
    loop = asyncio.get_running_loop()
    script = _async_scripts.get(loop)
    if script is None:
        # A bounded pool that makes a burst of requests wait for a connection: redis-py's default
        # pool (100) fails the 101st at once, and the limiter then lets the request through. (Redis
        # being down fails at connect, without this wait.)
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=128,
            timeout=10.0,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
        )
        client = redis.asyncio.Redis(connection_pool=pool)
        script = _async_scripts[loop] = client.register_script(_TAKE)
    return script


def _script_call(buckets: list[Bucket]) -> tuple[list[str], list[float]] | None:
    """The script's keys and arguments for `buckets`; None when all are unlimited (limit 0)."""
    active = [b for b in buckets if b.limit > 0]
    if not active:
        return None
    args: list[float] = []
    for bucket in active:
        args += [bucket.limit, bucket.limit / bucket.period]
    return [f"atrium:rl:{b.key}" for b in active], args


def take(buckets: list[Bucket]) -> float:
    """Take one token from every bucket, or none. Returns 0 when taken, else the seconds until all
    buckets have a token again. Buckets with a limit of 0 are unlimited and skipped."""
    call = _script_call(buckets)
    if call is None:
        return 0.0
    try:
        wait = _script()(keys=call[0], args=call[1])
    except redis.RedisError:
        logger.warning("rate limiter unavailable; request let through", exc_info=True)
        return 0.0
    return float(wait)


async def atake(buckets: list[Bucket]) -> float:
    """`take` from async code, on the running loop's own connection."""
    call = _script_call(buckets)
    if call is None:
        return 0.0
    try:
        wait = await _async_script()(keys=call[0], args=call[1])
    except redis.RedisError:
        logger.warning("rate limiter unavailable; request let through", exc_info=True)
        return 0.0
    return float(wait)


# Failure counters (sign-in): only failures count, so a caller who gets it right is never slowed. Each
# attempt reserves one failure on every counter before it is checked (so parallel attempts cannot pass
# the limit together) and a success gives it back. A counter lives for its window from its first
# failure; at `limit`, attempts are refused until the window ends.
_RESERVE = """
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('TTL', key)
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
end
return 0
"""
_REFUND = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


@dataclass(frozen=True)
class FailureCounter:
    key: str
    limit: int  # 0: unlimited
    window: int  # seconds


@lru_cache(maxsize=1)
def _failure_scripts() -> tuple[Any, Any]:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    return client.register_script(_RESERVE), client.register_script(_REFUND)


def _failure_keys(counters: list[FailureCounter]) -> tuple[list[FailureCounter], list[str]]:
    active = [c for c in counters if c.limit > 0]
    return active, [f"atrium:fail:{c.key}" for c in active]


def failure_reserve(counters: list[FailureCounter]) -> float:
    """Count an attempt as a failure on every counter, unless one is at its limit: then count nothing
    and return the seconds until it expires. 0: reserved (give it back with `failure_refund`)."""
    active, keys = _failure_keys(counters)
    if not active:
        return 0.0
    args: list[int] = []
    for counter in active:
        args += [counter.limit, counter.window]
    try:
        return float(_failure_scripts()[0](keys=keys, args=args))
    except redis.RedisError:
        logger.warning("failure counters unavailable; attempt let through", exc_info=True)
        return 0.0


def failure_refund(counters: list[FailureCounter]) -> None:
    """Give back what `failure_reserve` counted: the attempt succeeded."""
    active, keys = _failure_keys(counters)
    if not active:
        return
    try:
        _failure_scripts()[1](keys=keys, args=[])
    except redis.RedisError:
        logger.warning("failure counters unavailable; success not refunded", exc_info=True)
