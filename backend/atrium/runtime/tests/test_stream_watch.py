"""The process's one stream watcher (`streams.StreamWatch`) against the real Redis: it wakes each reader
when its stream gets an entry after the reader's cursor, promptly, stream after stream, and a reader
whose cursor is already at the newest entry waits on."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from atrium.runtime.streams import StreamWatch, get_redis


async def _add_later(key: str, delay: float) -> str:
    await asyncio.sleep(delay)
    return (await get_redis().xadd(key, {"e": "x"})).decode()


async def test_readers_are_woken_promptly_one_stream_after_another() -> None:
    watch = StreamWatch()
    keys = [f"atrium:test:watch:{uuid.uuid4()}" for _ in range(3)]
    try:
        for key in keys:
            # given readers waiting on a stream with nothing in it yet
            started = time.monotonic()
            adding = asyncio.ensure_future(_add_later(key, 0.2))
            woken = await asyncio.gather(*(watch.wait(key, after="0", within=4) for _ in range(3)))
            await adding
            # then each is woken by the entry, long before its time is up
            assert woken == [True, True, True]
            assert time.monotonic() - started < 1.5
    finally:
        await get_redis().delete(*keys)


async def test_a_reader_at_the_newest_entry_waits_for_the_next() -> None:
    watch = StreamWatch()
    key = f"atrium:test:watch:{uuid.uuid4()}"
    try:
        newest = await _add_later(key, 0)
        # a reader behind it is woken at once; one at it waits until its time is up
        assert await watch.wait(key, after="0", within=2)
        assert not await watch.wait(key, after=newest, within=0.5)
        # and is woken by the next entry
        adding = asyncio.ensure_future(_add_later(key, 0.2))
        assert await watch.wait(key, after=newest, within=4)
        await adding
    finally:
        await get_redis().delete(key)


async def test_without_client_unblock_readers_are_still_woken_promptly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a Redis that refuses CLIENT UNBLOCK (an ACL, or a managed Redis without the command)
    async def refused(self: Redis, client_id: int, error: bool = False) -> bool:
        raise ResponseError("NOPERM this user has no permissions to run the 'client|unblock' command")

    monkeypatch.setattr(Redis, "client_unblock", refused)
    watch = StreamWatch()
    keys = [f"atrium:test:watch:{uuid.uuid4()}" for _ in range(3)]
    try:
        # when readers wait on one stream after another (each new one must join a blocked XREAD)
        blocker = asyncio.ensure_future(watch.wait(f"atrium:test:watch:{uuid.uuid4()}", after="0", within=6))
        await asyncio.sleep(0.2)
        for key in keys:
            started = time.monotonic()
            adding = asyncio.ensure_future(_add_later(key, 0.2))
            woken = await watch.wait(key, after="0", within=4)
            await adding
            # then each is woken well before the watcher's 5-s block would have ended
            assert woken
            assert time.monotonic() - started < 1.5
        blocker.cancel()
    finally:
        await get_redis().delete(*keys)
