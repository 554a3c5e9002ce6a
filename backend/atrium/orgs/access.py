"""Taking access away, in every web process: the access epoch.

A web process trusts what it checked for a while past the check: API keys it verified
(`ATRIUM_API_KEY_CACHE_SECONDS`) and the callers of the SSE streams it serves, which stay open for
minutes. Whatever takes access away (a key revoked, a member removed, a role changed) bumps one Redis
counter once its transaction commits; each process reads the counter at most every
`ACCESS_EPOCH_POLL_SECONDS` and, when it moved, forgets the keys it verified and checks its open
streams' callers again (`caller_still_allowed`).

Redis away: the counter cannot move, so other processes fall back to their cache's TTL for keys and
to the stream's end; the process that made the change forgets its keys at once all the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from functools import lru_cache

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

ACCESS_EPOCH_KEY = "atrium:access:epoch"
ACCESS_EPOCH_POLL_SECONDS = 1.0
_TIMEOUT = 1.0


class _Seen:
    """The counter as this process last read it, and when."""

    epoch: int = 0
    read_at: float = float("-inf")


_seen = _Seen()


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT)


# One async client per event loop: asyncio Redis connections belong to the loop that opened them.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
    weakref.WeakKeyDictionary()
)


def _async_client() -> redis.asyncio.Redis:
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT
        )
    return client


def access_revoked() -> None:
    """Tell every process that some access was taken away, once the current transaction commits."""
    transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    try:
        _seen.epoch = int(_client(settings.REDIS_URL).incr(ACCESS_EPOCH_KEY))
    except redis.RedisError:
        logger.warning("access epoch not bumped: other processes forget revoked access later", exc_info=True)


def _remember(value: bytes | str | int | None) -> int:
    _seen.epoch, _seen.read_at = int(value or 0), time.monotonic()
    return _seen.epoch


def _due() -> bool:
    return time.monotonic() - _seen.read_at >= ACCESS_EPOCH_POLL_SECONDS


def access_epoch_known() -> int:
    """The counter as this process last read it (no I/O)."""
    return _seen.epoch


def access_epoch() -> int:
    """The counter, read from Redis at most every `ACCESS_EPOCH_POLL_SECONDS`."""
    if _due():
        try:
            return _remember(_client(settings.REDIS_URL).get(ACCESS_EPOCH_KEY))
        except redis.RedisError:
            _seen.read_at = time.monotonic()  # not on every request while Redis is away
    return _seen.epoch


async def access_epoch_async() -> int:
    """`access_epoch` from async code, on the running loop's own connection."""
    if _due():
        try:
            return _remember(await _async_client().get(ACCESS_EPOCH_KEY))
        except redis.RedisError:
            _seen.read_at = time.monotonic()
    return _seen.epoch
