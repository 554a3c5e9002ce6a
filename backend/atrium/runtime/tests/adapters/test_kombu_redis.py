"""Adapter `kombu_redis` (atrium/runtime/adapters/kombu_redis.py): what it does against the test Redis,
the kombu internals it relies on (contract), and the stock transport when it is switched off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

from atrium.runtime.adapters.kombu_redis import Channel, Transport
from atrium.runtime.tests.adapters.contract import assert_signature, assert_source

BACKEND = Path(__file__).resolve().parents[4]


def _connection() -> Connection:
    return Connection(settings.REDIS_URL, transport="atrium.runtime.adapters.kombu_redis:Transport")


def test_contract_kombus_channel_internals_are_what_the_adapter_was_written_against() -> None:
    assert_source("kombu_redis", "Channel.pool", kombu_redis.Channel.pool.fget, "21755a780d16f22f")
    assert_source(
        "kombu_redis", "Channel._create_client", kombu_redis.Channel._create_client, "376ef74d24a41659"
    )
    assert_source(
        "kombu_redis", "Channel._disconnect_pools", kombu_redis.Channel._disconnect_pools, "d4a0636e51ad6352"
    )
    assert_signature(
        "kombu_redis",
        "Channel._create_client",
        kombu_redis.Channel._create_client,
        "(self, asynchronous=False)",
    )


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


@pytest.mark.parametrize(
    ("stock", "transport"), [("", "atrium.runtime.adapters.kombu_redis:Transport"), ("kombu_redis", None)]
)
def test_on_the_stock_path_celery_keeps_kombus_own_transport(stock: str, transport: str | None) -> None:
    # given the settings loaded with the adapter on, then switched to the stock path
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ATRIUM_STOCK_LIBRARY_PATHS": stock,
    }
    code = "from django.conf import settings; print(getattr(settings, 'CELERY_BROKER_TRANSPORT', None))"
    # when
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BACKEND, env=env, capture_output=True, text=True, check=True
    )
    # then
    assert done.stdout.strip() == str(transport)


def test_an_unknown_adapter_name_fails_at_start_up() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ATRIUM_STOCK_LIBRARY_PATHS": "kombu",
    }
    code = "from django.conf import settings; settings.DEBUG"
    done = subprocess.run([sys.executable, "-c", code], cwd=BACKEND, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "ATRIUM_STOCK_LIBRARY_PATHS: unknown names ['kombu']" in done.stderr
