"""Run events between workers and web processes, through Redis Streams.

Every run has a stream of its v1 SSE events (`run:<id>:events`, Redis-assigned ids, which are strictly
increasing) and a tiny `run:<id>:done` stream the worker appends to once the run's final status is in
Postgres, so `/wait` and `/join` return the moment a run ends without polling. Every thread has a
stream of v2 envelopes (`thread:<id>:v2`) whose ids are a persistent per-thread sequence (`seq-0`),
as the v2 protocol wants. Any web process can serve, join or resume any stream.

Cancellation travels the other way on one pub/sub channel that every worker process listens to.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

from atrium.runtime.engine import ProtocolEvent, RunEvent, dumps

PREFIX = "atrium"
CONTROL_CHANNEL = f"{PREFIX}:control"
# How long a finished run's events stay replayable (Last-Event-ID, reconnects, late joiners).
RUN_STREAM_TTL_SECONDS = 3600
THREAD_STREAM_TTL_SECONDS = 7 * 24 * 3600
THREAD_STREAM_MAXLEN = 20_000
END_EVENT = "__end__"


def run_events_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:events"


def run_done_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:done"


def thread_v2_key(thread_id: str) -> str:
    return f"{PREFIX}:thread:{thread_id}:v2"


def thread_seq_key(thread_id: str) -> str:
    return f"{PREFIX}:thread:{thread_id}:seq"


def thread_run_start_key(thread_id: str) -> str:
    """The seq of the first v2 event of the thread's latest run: where a new stream replays from."""
    return f"{PREFIX}:thread:{thread_id}:run-start"


def append_v2_args(thread_id: str, payloads: list[bytes], *, run_start: bool) -> list[Any]:
    keys = [thread_v2_key(thread_id), thread_seq_key(thread_id), thread_run_start_key(thread_id)]
    return [APPEND_V2_SCRIPT, 3, *keys, THREAD_STREAM_MAXLEN, "1" if run_start else "0", *payloads]


# Appends v2 envelopes with the thread's next sequence numbers, atomically with the counter, so two
# writers (a worker and a web process appending a cancel) can never interleave or reuse a seq.
APPEND_V2_SCRIPT = """
local ids = {}
for i = 3, #ARGV do
  local seq = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'd', ARGV[i])
  if i == 3 and ARGV[2] == '1' then redis.call('SET', KEYS[3], seq) end
  ids[#ids + 1] = seq
end
return ids
"""

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def get_redis() -> aioredis.Redis:
    """One client (and connection pool) per event loop: asyncio Redis connections belong to a loop."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # Reads block for up to HEARTBEAT seconds (XREAD BLOCK); the socket timeout must outlast them.
        client = aioredis.Redis.from_url(
            settings.REDIS_URL,
            max_connections=1024,
            health_check_interval=30,
            socket_timeout=30,
            socket_connect_timeout=5,
        )
        _clients[loop] = client
    return client


def v2_envelope(event: ProtocolEvent, seq: int | None = None) -> dict[str, Any]:
    envelope: dict[str, Any] = {"type": "event", "method": event.method, "params": event.params()}
    if seq is not None:
        envelope["seq"] = seq
        envelope["event_id"] = str(seq)
    return envelope


@dataclass
class RunPublisher:
    """The worker's side: appends one run's events as it executes."""

    run_id: str
    thread_id: str
    redis: aioredis.Redis
    _v2_started: bool = False

    async def publish(self, v1: Sequence[RunEvent], v2: Sequence[ProtocolEvent]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for event in v1:
            pipe.xadd(run_events_key(self.run_id), {"e": event.event, "d": dumps(event.data)})
        if v2:
            payloads = [dumps(v2_envelope(event)) for event in v2]
            pipe.eval(*append_v2_args(self.thread_id, payloads, run_start=not self._v2_started))
            self._v2_started = True
        await pipe.execute()

    async def publish_batched(self, events: asyncio.Queue[Any]) -> None:
        """Drain `events` (RunEvent | ProtocolEvent, then a None sentinel) in as few round trips as the
        producer allows: whatever accumulated while the previous pipeline was in flight goes in the next."""
        done = False
        while not done:
            batch = [await events.get()]
            while not events.empty():
                batch.append(events.get_nowait())
            if batch[-1] is None:
                batch.pop()
                done = True
            if batch:
                await self._publish_ordered(batch)

    async def _publish_ordered(self, batch: list[Any]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pending_v2: list[bytes] = []

        def flush_v2() -> None:
            if pending_v2:
                pipe.eval(*append_v2_args(self.thread_id, list(pending_v2), run_start=not self._v2_started))
                self._v2_started = True
                pending_v2.clear()

        for event in batch:
            if isinstance(event, RunEvent):
                pipe.xadd(run_events_key(self.run_id), {"e": event.event, "d": dumps(event.data)})
            else:
                pending_v2.append(dumps(v2_envelope(event)))
        flush_v2()
        await pipe.execute()

    async def finish(self, status: str, *, result: Any = None) -> None:
        """Mark the end for stream readers and waiters. Call after the run's status is committed.

        `result` (the /wait body, when known) travels with the marker, so waiters need no database
        read, and still get it when the run row is already gone (a stateless run's thread is deleted
        right after the run)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(run_events_key(self.run_id), {"e": END_EVENT, "d": dumps(status)})
        done = {"s": status} if result is None else {"s": status, "r": dumps(result)}
        pipe.xadd(run_done_key(self.run_id), done)  # type: ignore[arg-type]
        pipe.expire(run_events_key(self.run_id), RUN_STREAM_TTL_SECONDS)
        pipe.expire(run_done_key(self.run_id), RUN_STREAM_TTL_SECONDS)
        pipe.expire(thread_v2_key(self.thread_id), THREAD_STREAM_TTL_SECONDS)
        pipe.expire(thread_seq_key(self.thread_id), THREAD_STREAM_TTL_SECONDS)
        pipe.expire(thread_run_start_key(self.thread_id), THREAD_STREAM_TTL_SECONDS)
        await pipe.execute()


async def append_v2(thread_id: str, events: Iterable[ProtocolEvent]) -> None:
    """Append v2 events from outside a run's worker (e.g. the `lifecycle interrupted` of a cancel)."""
    payloads = [dumps(v2_envelope(event)) for event in events]
    if payloads:
        await get_redis().eval(*append_v2_args(thread_id, payloads, run_start=False))


@dataclass(frozen=True)
class StoredEvent:
    id: str
    event: str
    data: bytes


def parse_last_event_id(value: str | None) -> str | None:
    """`Last-Event-ID` → the Redis id to read after; None means "tail only" (no header)."""
    if value is None:
        return None
    value = value.strip()
    if value in {"", "-1", "0", "-"}:
        return "0"
    return value


async def _tail(key: str, *, after: str, block_ms: int) -> AsyncIterator[tuple[str, Any] | None]:
    """Every entry of a stream after id `after`, then new ones as they arrive, forever; `None` each
    time `block_ms` passes with nothing new (the caller's cue to send a heartbeat)."""
    redis = get_redis()
    cursor = after
    while True:
        batches: Any = await redis.xread({key: cursor}, count=256, block=block_ms)
        if not batches:
            yield None
            continue
        for _, entries in batches:
            for entry_id, fields in entries:
                cursor = entry_id.decode()
                yield cursor, fields


async def read_run_events(
    run_id: str, *, after: str, block_ms: int = 5000
) -> AsyncIterator[StoredEvent | None]:
    """Yield a run's events after `after` until its end marker; `None` when `block_ms` passed idle."""
    async for item in _tail(run_events_key(run_id), after=after, block_ms=block_ms):
        if item is None:
            yield None
            continue
        entry_id, fields = item
        name = fields[b"e"].decode()
        if name == END_EVENT:
            return
        yield StoredEvent(entry_id, name, fields[b"d"])


async def last_run_event_id(run_id: str) -> str:
    """The id of the newest stored event, to tail from "now" without replaying. The end marker does
    not count: a reader placed after it would wait forever on a finished run instead of ending."""
    entries: Any = await get_redis().xrevrange(run_events_key(run_id), count=2)
    for entry_id, fields in entries:
        if fields.get(b"e") != END_EVENT.encode():
            return str(entry_id.decode())
    return "0"


@dataclass(frozen=True)
class RunEnd:
    status: str
    result: bytes | None  # the /wait body as JSON, when the worker published it


async def wait_run_end(run_id: str, *, block_ms: int) -> RunEnd | None:
    """How the run ended once the worker marked it done, or None if `block_ms` passed first."""
    batches: Any = await get_redis().xread({run_done_key(run_id): "0"}, count=1, block=block_ms)
    if not batches:
        return None
    _, entries = batches[0]
    fields = entries[0][1]
    return RunEnd(status=fields[b"s"].decode(), result=fields.get(b"r"))


async def run_events_exist(run_id: str) -> bool:
    """Whether a run's events are still retained (they expire a while after the run ends)."""
    return bool(await get_redis().exists(run_events_key(run_id)))


async def read_thread_v2(
    thread_id: str, *, after_seq: int, block_ms: int = 5000
) -> AsyncIterator[tuple[int, bytes] | None]:
    """Yield `(seq, envelope_json)` for a thread's v2 events after `after_seq`, forever; `None` when idle."""
    async for item in _tail(thread_v2_key(thread_id), after=f"{after_seq}-0", block_ms=block_ms):
        yield None if item is None else (int(item[0].split("-", 1)[0]), item[1][b"d"])


async def thread_replay_start(thread_id: str) -> int:
    """The seq to replay after so a new stream starts at the latest run's first event, and the thread's
    current seq (what a command has been applied through)."""
    start, current = await get_redis().mget(thread_run_start_key(thread_id), thread_seq_key(thread_id))
    return max(int(start) - 1, 0) if start else int(current or 0)


async def thread_current_seq(thread_id: str) -> int:
    value = await get_redis().get(thread_seq_key(thread_id))
    return int(value or 0)
