"""A run's events go to Redis in batches: what arrives within the linger joins the first event, and
closing sends what is left at once, never waiting out the linger."""

from __future__ import annotations

import asyncio
import time

from atrium.runtime.streams import EventBatches


def test_events_within_the_linger_go_in_one_batch():
    async def scenario() -> list[list[str] | None]:
        batches = EventBatches()

        async def produce() -> None:
            for name in ("a", "b", "c"):
                batches.put(name)
                await asyncio.sleep(0.01)
            batches.close()

        producer = asyncio.ensure_future(produce())
        taken = [await batches.take(linger=0.05), await batches.take(linger=0.05)]
        await producer
        return taken

    assert asyncio.run(scenario()) == [["a", "b", "c"], None]


def test_without_a_linger_each_take_gets_what_is_there():
    async def scenario() -> list[list[str] | None]:
        batches = EventBatches()
        batches.put("a")
        first = await batches.take()
        batches.put("b")
        batches.put("c")
        second = await batches.take()
        batches.close()
        return [first, second, await batches.take()]

    assert asyncio.run(scenario()) == [["a"], ["b", "c"], None]


def test_closing_flushes_the_batch_without_waiting_out_the_linger():
    async def scenario() -> tuple[list[list[str] | None], float]:
        batches = EventBatches()
        batches.put("last")
        started = time.monotonic()
        asyncio.get_running_loop().call_later(0.01, batches.close)
        taken = [await batches.take(linger=30), await batches.take(linger=30)]
        return taken, time.monotonic() - started

    taken, waited = asyncio.run(scenario())
    assert taken == [["last"], None]
    assert waited < 5  # not the 30-second linger


def test_a_closed_empty_queue_ends_at_once():
    async def scenario() -> list[str] | None:
        batches = EventBatches()
        batches.close()
        return await batches.take(linger=30)

    assert asyncio.run(scenario()) is None
