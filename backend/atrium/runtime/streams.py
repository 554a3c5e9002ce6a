"""Run events between workers and web processes, through Redis Streams.

Every run has a stream of its v1 SSE events (`run:<id>:events`, Redis-assigned ids, which are strictly
increasing) and a tiny `run:<id>:done` stream the worker appends to once the run's final status is in
Postgres, so `/wait` and `/join` return the moment a run ends without polling. Every thread has a
stream of v2 envelopes (`thread:<id>:v2`) whose ids are a persistent per-thread sequence (`seq-0`),
as the v2 protocol wants. Any web process can serve, join or resume any stream.

Cancellation travels the other way on one pub/sub channel that every worker process listens to.

Waiting readers (`/wait`, `/join`, streams) hold no Redis connection of their own: each reads with a
non-blocking XREAD and, when there is nothing new, waits on the process's one `StreamWatch`, whose
single blocking XREAD watches every stream a reader waits on and wakes the readers it concerns. A web
process serves thousands of waiting clients on a few connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from atrium.core.errors import ValidationFailedError
from atrium.runtime.engine import ProtocolEvent, RunEvent, dumps

PREFIX = "atrium"
CONTROL_CHANNEL = f"{PREFIX}:control"
# How long a finished run's events stay replayable (Last-Event-ID, reconnects, late joiners).
RUN_STREAM_TTL_SECONDS = 3600
THREAD_STREAM_TTL_SECONDS = 7 * 24 * 3600
THREAD_STREAM_MAXLEN = 20_000
END_EVENT = "__end__"
# Redis away (restarting, loading its data, unreachable): worth retrying, nothing is lost meanwhile.
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)
RETRY_MAX_SECONDS = 2.0
logger = logging.getLogger(__name__)
T = TypeVar("T")


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


def thread_batch_key(thread_id: str) -> str:
    """The token of the last v2 batch a worker appended: a retried append is applied once."""
    return f"{PREFIX}:thread:{thread_id}:v2-batch"


# Appends v2 envelopes with the thread's next sequence numbers, atomically with the counter, so two
# writers (a worker and a web process appending a cancel) can never interleave or reuse a seq. A batch
# with a token is skipped if it is the last one applied: the worker's retry after a lost reply.
_LUA_APPEND_V2 = """
local function append_v2(stream, seq_key, start_key, batch_key, maxlen, run_start, token, ttl, argv, first)
  if token ~= '' then
    if redis.call('GET', batch_key) == token then return {} end
    redis.call('SET', batch_key, token, 'EX', ttl)
  end
  local ids = {}
  for i = first, #argv do
    local seq = redis.call('INCR', seq_key)
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, seq .. '-0', 'd', argv[i])
    if i == first and run_start == '1' then redis.call('SET', start_key, seq) end
    ids[#ids + 1] = seq
  end
  return ids
end
"""
# Appends a run's v1 events, each stamped `n` = "<publisher>:<number>". Events a retried call already
# appended (a reply lost when Redis went away after applying them) are skipped: the stream's newest
# entry says how far this publisher got. A stream already holding `maxlen` entries (0: no cap) takes
# nothing more: -1 tells the worker to end the run (trimming instead would let a client replaying the
# run miss events without knowing).
_LUA_APPEND_V1 = """
local function append_v1(stream, publisher, n, argv, first, last, maxlen)
  local done = -1
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #top > 0 then
    local fields = top[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == 'n' then
        local by, number = string.match(fields[i + 1], '^(.+):(%d+)$')
        if by == publisher then done = tonumber(number) end
      end
    end
  end
  for i = first, last, 2 do
    if n > done then
      if maxlen > 0 and redis.call('XLEN', stream) >= maxlen then return -1 end
      redis.call('XADD', stream, '*', 'e', argv[i], 'd', argv[i + 1], 'n', publisher .. ':' .. n)
    end
    n = n + 1
  end
  return 0
end
"""
_V2_KEYS = (thread_v2_key, thread_seq_key, thread_run_start_key, thread_batch_key)
# KEYS: the thread's v2 stream, seq, run start, batch token. ARGV: maxlen, run start ('1'/'0'), batch
# token, token TTL, then the envelopes.
APPEND_V2_SCRIPT = (
    _LUA_APPEND_V2
    + """
return append_v2(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV, 5)
"""
)
# A worker's batch, v1 and v2 in one call. KEYS: the run's v1 stream, then the v2 keys. ARGV:
# publisher, its first event number, the number of v1 events k, the v2 arguments (maxlen, run start,
# token, TTL), the run stream's cap, k (name, data) pairs, then the v2 envelopes. Returns k, or -1
# when the run stream is at its cap (the batch's v1 events past it and its v2 envelopes are dropped).
PUBLISH_SCRIPT = (
    _LUA_APPEND_V1
    + _LUA_APPEND_V2
    + """
local k = tonumber(ARGV[3])
if k > 0 and append_v1(KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV, 9, 8 + 2 * k, tonumber(ARGV[8])) < 0 then
  return -1
end
if #ARGV > 8 + 2 * k then
  append_v2(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV, 9 + 2 * k)
end
return k
"""
)


def _v2_args(run_start: bool, token: str) -> list[Any]:
    return [THREAD_STREAM_MAXLEN, "1" if run_start else "0", token, THREAD_STREAM_TTL_SECONDS]


def append_v2_args(thread_id: str, payloads: list[bytes], *, run_start: bool, token: str = "") -> list[Any]:
    """`eval` arguments appending v2 envelopes to a thread's stream (outside a worker's batches)."""
    keys = [key(thread_id) for key in _V2_KEYS]
    return [APPEND_V2_SCRIPT, len(keys), *keys, *_v2_args(run_start, token), *payloads]


def publish_args(
    run_id: str,
    thread_id: str,
    v1: list[Any],
    v2: list[bytes],
    *,
    publisher: str,
    first: int,
    run_start: bool,
    token: str,
    max_events: int = 0,
) -> list[Any]:
    """`eval` arguments appending a worker's batch: v1 (name, data) pairs flattened, then v2 envelopes;
    `max_events` caps the run's v1 stream (0: no cap)."""
    keys = [run_events_key(run_id), *(key(thread_id) for key in _V2_KEYS)]
    args = [publisher, first, len(v1) // 2, *_v2_args(run_start, token), max_events]
    return [PUBLISH_SCRIPT, len(keys), *keys, *args, *v1, *v2]


async def retrying(what: str, send: Callable[[], Awaitable[T]]) -> T:
    """Call `send` until Redis answers. Only for idempotent sends: a reply lost with the connection
    does not say whether Redis applied the command."""
    delay = 0.1
    while True:
        try:
            return await send()
        except REDIS_AWAY as exc:
            logger.warning("%s: Redis is away (%s); retrying in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def get_redis() -> aioredis.Redis:
    """One client (and connection pool) per event loop: asyncio Redis connections belong to a loop."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # Commands hold a connection only for their round trip (waiting readers hold none: `StreamWatch`),
        # so a small pool serves thousands of clients; a burst waits a moment for a free connection
        # rather than failing (a pool that ran out raises at once).
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=REDIS_POOL_SIZE,
            timeout=10,
            health_check_interval=30,
            **_SOCKETS,
        )
        client = _clients[loop] = aioredis.Redis(connection_pool=pool)
    return client


# The watcher's XREAD blocks for up to WATCH_BLOCK_MS: the socket timeout must outlast it.
_SOCKETS: dict[str, Any] = {"socket_timeout": 30, "socket_connect_timeout": 5}
REDIS_POOL_SIZE = 256


def _new_client(**options: Any) -> aioredis.Redis:
    return aioredis.Redis.from_url(settings.REDIS_URL, **_SOCKETS, **options)


# How long the watcher's XREAD blocks at most (it is interrupted when a reader adds a stream), and
# when Redis refuses `CLIENT UNBLOCK` (an ACL or a managed Redis without it): a new reader then waits
# at most this long to be watched.
WATCH_BLOCK_MS = 5000
WATCH_BLOCK_WITHOUT_UNBLOCK_MS = 50


def _entry_id(value: str) -> tuple[int, int]:
    """A stream entry id (`<ms>-<seq>`, or a bare `<ms>`) in the order Redis compares them."""
    ms, _, seq = value.partition("-")
    return int(ms or 0), int(seq or 0)


class StreamWatch:
    """Wakes readers when the stream they wait on has an entry after their cursor, for every reader of
    the event loop through one connection: one blocking `XREAD COUNT 1` over all the watched streams,
    each from the lowest cursor waiting on it. A reader that adds a stream (or an earlier cursor) while
    that XREAD blocks interrupts it (`CLIENT UNBLOCK`), so the next one includes it at once."""

    def __init__(self) -> None:
        self._waiters: dict[str, dict[asyncio.Future[None], tuple[int, int]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._connection: aioredis.Redis | None = None
        self._client_id: int | None = None
        self._reading: dict[str, tuple[int, int]] | None = None  # what the blocked XREAD watches
        self._interrupting = False
        self._interruption: asyncio.Future[None] | None = None
        self._block_ms = WATCH_BLOCK_MS

    async def wait(self, key: str, *, after: str, within: float) -> bool:
        """Wait until stream `key` has an entry after id `after`; False if `within` seconds passed
        first (or Redis is away meanwhile). The caller reads the entries itself."""
        cursor = _entry_id(after)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(key, {})
        waiters[future] = cursor
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._read())
        elif self._reading is not None and not self._interrupting:
            watched = self._reading.get(key)
            if watched is None or cursor < watched:
                self._interrupting = True
                self._interruption = asyncio.ensure_future(self._interrupt())  # held: the loop's ref is weak
                self._interruption.add_done_callback(_log_failure)
        try:
            done, _ = await asyncio.wait({future}, timeout=within)
            return bool(done)
        finally:
            if self._waiters.get(key) is waiters:
                waiters.pop(future, None)
                if not waiters:
                    del self._waiters[key]

    async def _interrupt(self) -> None:
        # The XREAD may be sent but not yet blocking in Redis (then nothing is unblocked): try again
        # until that XREAD has returned.
        reading = self._reading
        while reading is not None and self._reading is reading and self._client_id is not None:
            try:
                if await get_redis().client_unblock(self._client_id):
                    return
            except ResponseError:
                logger.warning(
                    "Redis refuses CLIENT UNBLOCK: stream waits poll every %s ms instead",
                    WATCH_BLOCK_WITHOUT_UNBLOCK_MS,
                )
                self._block_ms = WATCH_BLOCK_WITHOUT_UNBLOCK_MS
                return
            await asyncio.sleep(0.002)

    async def _read(self) -> None:
        delay = 0.1
        while self._waiters:
            try:
                if self._connection is None or self._client_id is None:
                    self._connection = _new_client(single_connection_client=True)
                    self._client_id = int(await self._connection.client_id())
                    self._block_ms = await _unblock_allowed(self._connection, self._client_id)
                # No await between reading the waiters and marking them watched: a reader added later
                # interrupts this XREAD.
                streams = {key: min(waiters.values()) for key, waiters in self._waiters.items() if waiters}
                if not streams:
                    continue  # every reader left while connecting
                self._reading, self._interrupting = streams, False
                reply: Any = await self._connection.xread(
                    {key: f"{ms}-{seq}" for key, (ms, seq) in streams.items()}, count=1, block=self._block_ms
                )
            except REDIS_AWAY:
                # The readers wait on (their timeouts send heartbeats); a new connection once it is back.
                connection, self._connection, self._client_id = self._connection, None, None
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            finally:
                self._reading = None
            delay = 0.1
            for raw_key, entries in reply or ():
                key, newest = raw_key.decode(), _entry_id(entries[-1][0].decode())
                waiters = self._waiters.get(key, {})
                for future, cursor in list(waiters.items()):
                    if cursor < newest:
                        del waiters[future]
                        if not future.done():
                            future.set_result(None)
                if not waiters:
                    self._waiters.pop(key, None)
        # Nothing to watch: the task ends at once (no await after the check, so a reader added from
        # now on starts a new one); the connection stays open for it.


async def _unblock_allowed(connection: aioredis.Redis, client_id: int) -> int:
    """How long the watcher may block: WATCH_BLOCK_MS if Redis lets it interrupt itself (unblocking
    itself while not blocked answers 0), else WATCH_BLOCK_WITHOUT_UNBLOCK_MS."""
    try:
        await connection.client_unblock(client_id)
    except ResponseError:
        logger.warning(
            "Redis refuses CLIENT UNBLOCK: stream waits poll every %s ms", WATCH_BLOCK_WITHOUT_UNBLOCK_MS
        )
        return WATCH_BLOCK_WITHOUT_UNBLOCK_MS
    return WATCH_BLOCK_MS


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("could not interrupt the stream watcher", exc_info=task.exception())


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamWatch] = weakref.WeakKeyDictionary()


def stream_watch() -> StreamWatch:
    """The event loop's watcher (its connection belongs to the loop)."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = StreamWatch()
    return watch


def v2_envelope(event: ProtocolEvent, seq: int | None = None) -> dict[str, Any]:
    envelope: dict[str, Any] = {"type": "event", "method": event.method, "params": event.params()}
    if seq is not None:
        envelope["seq"] = seq
        envelope["event_id"] = str(seq)
    return envelope


# How long the first event of a batch waits for more before going to Redis. A run's steps emit their
# events a millisecond or so apart (each waits on its checkpoint write): sent one step at a time they
# cost a Redis round trip each, the biggest share of a short run's publishing. Streams see events at
# most this much later; a run's end is never held back (closing the batches flushes them at once).
PUBLISH_LINGER_SECONDS = 0.010


class EventBatches:
    """A run's events on their way from its graph to Redis, taken in batches: whatever came in while
    the previous batch was in flight, and what comes within the linger after the first."""

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._ready = asyncio.Event()
        self._closed = asyncio.Event()

    def put(self, event: Any) -> None:
        self._items.append(event)
        self._ready.set()

    def close(self) -> None:
        """No more events: the batch being gathered goes at once, and `take` then returns None."""
        self._closed.set()
        self._ready.set()

    async def take(self, linger: float = 0.0) -> list[Any] | None:
        await self._ready.wait()
        if linger > 0 and not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(linger):
                    await self._closed.wait()
        batch, self._items = self._items, []
        if not batch and self._closed.is_set():
            return None
        self._ready.clear()
        if self._closed.is_set():
            self._ready.set()  # the next `take` returns None without waiting
        return batch


@dataclass
class RunPublisher:
    """The worker's side: appends one run's events as it executes.

    Redis going away never loses an event or repeats one: each append is retried until Redis answers,
    and the scripts skip what an earlier try already applied (the graph keeps running meanwhile; its
    events queue up in the worker).

    A run's events are capped (`max_events`, from `ATRIUM_RUN_MAX_STREAM_EVENTS`; 0: none): its v1
    stream by the script, its v2 envelopes by this publisher's count. At the cap nothing more is
    appended, `capped` is set and `on_capped` called once, so the worker ends the run with an error;
    that error event and the end marker are the only appends past the cap (`uncapped=True`)."""

    run_id: str
    thread_id: str
    redis: aioredis.Redis
    _v2_started: bool = False
    max_events: int = 0
    on_capped: Callable[[], None] | None = None
    capped: bool = False
    _token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _numbered: int = 0
    _batches: int = 0
    _v2_count: int = 0
    _v2_full: bool = False

    async def publish(
        self, v1: Sequence[RunEvent], v2: Sequence[ProtocolEvent], *, uncapped: bool = False
    ) -> None:
        await self._publish_ordered([*v1, *v2], uncapped=uncapped)

    async def publish_batched(self, events: EventBatches) -> None:
        """Send `events` (RunEvent | ProtocolEvent) until it is closed, a batch per round trip."""
        while (batch := await events.take(PUBLISH_LINGER_SECONDS)) is not None:
            await self._publish_ordered(batch)

    async def _publish_ordered(self, batch: list[Any], *, uncapped: bool = False) -> None:
        if self.capped and not uncapped:
            return  # the run is being ended for its cap: what it still emits is not recorded
        args = self._batch_args(batch, uncapped=uncapped)

        async def send() -> Any:
            return await self.redis.eval(*args)

        appended = await retrying(f"events of run {self.run_id}", send)
        if not uncapped and not self.capped and (int(appended) < 0 or self._v2_full):
            self.capped = True
            logger.warning("run %s reached its cap of %d stream events", self.run_id, self.max_events)
            if self.on_capped is not None:
                self.on_capped()

    def _batch_args(self, batch: Sequence[Any], *, uncapped: bool = False) -> list[Any]:
        """The `eval` arguments appending `batch` (numbered on from the previous batch)."""
        v1: list[Any] = []
        v2: list[bytes] = []
        for event in batch:
            if isinstance(event, RunEvent):
                v1 += [event.event, dumps(event.data)]
            else:
                v2.append(dumps(v2_envelope(event)))
        if self.max_events and not uncapped and self._v2_count + len(v2) > self.max_events:
            v2 = v2[: max(self.max_events - self._v2_count, 0)]
            self._v2_full = True  # reported once the batch is applied (`_publish_ordered`)
        self._v2_count += len(v2)
        first = self._numbered
        self._numbered += len(v1) // 2
        run_start = not self._v2_started
        self._v2_started = self._v2_started or bool(v2)
        self._batches += 1
        token = f"{self._token}:{self._batches}"
        return publish_args(
            self.run_id,
            self.thread_id,
            v1,
            v2,
            publisher=self._token,
            first=first,
            run_start=run_start,
            token=token,
            max_events=0 if uncapped else self.max_events,
        )

    async def finish(
        self, status: str, *, result: Any = None, terminal: Sequence[ProtocolEvent] = ()
    ) -> None:
        """Mark the end for stream readers and waiters, after the `terminal` v2 events (in the same
        round trip). Call after the run's status is committed.

        `result` (the /wait body, when known) travels with the marker, so waiters need no database
        read, and still get it when the run row is already gone (a stateless run's thread is deleted
        right after the run). A retry may append the marker twice: readers stop at the first."""
        events = self._batch_args(terminal) if terminal else None

        async def send() -> None:
            pipe = self.redis.pipeline(transaction=False)
            if events is not None:
                pipe.eval(*events)
            pipe.xadd(run_events_key(self.run_id), {"e": END_EVENT, "d": dumps(status)})
            done = {"s": status} if result is None else {"s": status, "r": dumps(result)}
            pipe.xadd(run_done_key(self.run_id), done)  # type: ignore[arg-type]
            pipe.expire(run_events_key(self.run_id), RUN_STREAM_TTL_SECONDS)
            pipe.expire(run_done_key(self.run_id), RUN_STREAM_TTL_SECONDS)
            pipe.expire(thread_v2_key(self.thread_id), THREAD_STREAM_TTL_SECONDS)
            pipe.expire(thread_seq_key(self.thread_id), THREAD_STREAM_TTL_SECONDS)
            pipe.expire(thread_run_start_key(self.thread_id), THREAD_STREAM_TTL_SECONDS)
            await pipe.execute()

        await retrying(f"end of run {self.run_id}", send)


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
    # A Redis stream id (`<ms>-<seq>`, each below 2**64) this stream sent; anything else would make
    # Redis fail the read after the stream's headers went out.
    parts = value.split("-")
    if len(parts) > 2 or not all(part.isascii() and part.isdigit() and int(part) < 2**64 for part in parts):
        raise ValidationFailedError("Last-Event-ID must be an event id this stream sent.")
    return value


async def _tail(key: str, *, after: str, block_ms: int) -> AsyncIterator[tuple[str, Any] | None]:
    """Every entry of a stream after id `after`, then new ones as they arrive, forever; `None` each
    time `block_ms` passes with nothing new (the caller's cue to send a heartbeat)."""
    redis = get_redis()
    cursor = after
    delay = 0.1
    while True:
        try:
            batches: Any = await redis.xread({key: cursor}, count=256)
            if not batches and await stream_watch().wait(key, after=cursor, within=block_ms / 1000):
                continue  # something new: read it
        except REDIS_AWAY:
            # Redis restarting: keep the client (heartbeats) and read on from the same cursor once it
            # is back, so nothing is skipped or repeated.
            yield None
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            continue
        delay = 0.1
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
    """How the run ended once the worker marked it done, or None if `block_ms` passed first (or Redis
    is away: the caller waits on)."""
    key = run_done_key(run_id)
    try:
        batches: Any = await get_redis().xread({key: "0"}, count=1)
        if not batches and await stream_watch().wait(key, after="0", within=block_ms / 1000):
            batches = await get_redis().xread({key: "0"}, count=1)
    except REDIS_AWAY:
        await asyncio.sleep(min(block_ms / 1000, RETRY_MAX_SECONDS))
        return None
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
