"""The broker transport (core/broker.py) against the test Redis."""

from __future__ import annotations

import pytest
from django.conf import settings
from kombu import Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from atrium.core.broker import Channel, Transport


def _connection() -> Connection:
    return Connection(settings.REDIS_URL, transport="atrium.core.broker:Transport")


def test_celery_uses_it_for_a_redis_url() -> None:
    from config.celery import app

    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)


def test_a_channel_keeps_one_client_for_its_commands() -> None:
    with _connection() as connection:
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        first = channel._create_client()
        assert first.ping()
        assert channel._create_client() is first


def test_a_channel_whose_connection_was_dropped_raises_the_brokers_connection_error() -> None:
    # given a channel (of a worker with a task under way)
    with _connection() as connection:
        channel = connection.default_channel
        # when its connection is dropped under it, as the consumer does when Redis goes away
        channel._disconnect_pools()
        channel.connection.client = None
        # then acknowledging the task's message raises a connection error (which Celery logs), not
        # an AttributeError that would end the worker process
        with pytest.raises(RedisConnectionError):
            channel.basic_ack("tag-1")
        assert isinstance(RedisConnectionError(), connection.connection_errors)
