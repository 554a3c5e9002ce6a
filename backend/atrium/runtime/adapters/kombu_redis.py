"""Adapter `kombu_redis`: kombu's Redis transport with two changes for thread-pool workers.

Selected by `CELERY_BROKER_TRANSPORT` (the broker URL still says where Redis is); not selected with
`ATRIUM_STOCK_LIBRARY_PATHS=kombu_redis`, and always for rediss:// and Sentinel URLs. It relies on
kombu's `Channel.pool` property (a lazily built `_pool`), `Channel._create_client(asynchronous)` and
`_disconnect_pools`; tests/adapters/test_kombu_redis.py holds them (docs/runbooks/upgrade-dependencies.md).

- When Redis goes away, the consumer closes its connection, and kombu then still uses the dropped
  connection's channels: the channel's close pushes the worker's unacknowledged messages back to the
  queue, and a task that ends afterwards acknowledges its message. Both rebuild the channel's Redis
  pool from a transport that is gone, an AttributeError nothing catches, and the worker process exits
  ("Unrecoverable error", seen when Redis restarts while a run executes). Here they get the broker
  connection error Celery expects from a lost broker: it logs the failed acknowledgement, the message
  stays in kombu's unacked set and comes back after the visibility timeout (the runtime's claim
  ignores a redelivered run it already finished), and the worker reconnects.
- kombu builds a new Redis client object for every acknowledgement and every other synchronous
  command (~4 % of a worker's CPU per run). The channel keeps one per connection pool: a Redis client
  is safe to share between threads, each command takes its own connection from the pool.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    _sync_client: Any = None

    @property
    def pool(self) -> Any:
        transport = self.connection
        if getattr(self, "_pool", None) is None and (transport is None or transport.client is None):
            raise RedisConnectionError("the broker connection of this channel was closed")
        return redis.Channel.pool.fget(self)  # type: ignore[attr-defined]

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        pool = self.pool
        client = self._sync_client
        if client is None or client.connection_pool is not pool:
            client = self._sync_client = super()._create_client()  # type: ignore[misc]
        return client


class Transport(redis.Transport):
    Channel = Channel
