"""The hot statements' cursor: prepared per connection when allowed, Django's errors, Django's transaction."""

from __future__ import annotations

import os
import time
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from atrium.runtime.db import conninfo, prepared_cursor, server_closed


def _probe(name: str) -> str:
    return f"SELECT %(n)s::int + 1 AS {name}"


def _prepared(name: str) -> int:
    """How many statements of that name this connection has prepared."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{name}%"])
        return int(cur.fetchone()[0])


@pytest.mark.django_db
def test_statements_are_prepared_on_the_connection(settings: Any) -> None:
    settings.ATRIUM_DB_PREPARED_STATEMENTS = True
    connection.ensure_connection()
    connection.connection.prepare_threshold = None  # a connection fresh from the pool
    with prepared_cursor() as cur:
        cur.execute(_probe("probe_on"), {"n": 1})
        assert cur.fetchone() == (2,)
    assert _prepared("probe_on") == 1


@pytest.mark.django_db
def test_nothing_is_prepared_when_turned_off(settings: Any) -> None:
    settings.ATRIUM_DB_PREPARED_STATEMENTS = False
    connection.ensure_connection()
    connection.connection.prepare_threshold = None
    with prepared_cursor() as cur:
        cur.execute(_probe("probe_off"), {"n": 1})
        assert cur.fetchone() == (2,)
    assert _prepared("probe_off") == 0


@pytest.mark.django_db(transaction=True)
def test_errors_are_djangos_and_the_transaction_is_djangos() -> None:
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE probe_unique (k int PRIMARY KEY)")

    def insert_twice() -> None:
        with transaction.atomic(), prepared_cursor() as cur:
            cur.execute("INSERT INTO probe_unique VALUES (1)")
            cur.execute("INSERT INTO probe_unique VALUES (1)")

    with pytest.raises(IntegrityError):
        insert_twice()
    with connection.cursor() as cur:  # the atomic block rolled back both rows
        cur.execute("SELECT count(*) FROM probe_unique")
        assert cur.fetchone() == (0,)


@pytest.mark.django_db
def test_a_connection_past_descriptor_1024_is_checked_for_a_hang_up() -> None:
    # given a process with more than a thousand descriptors open (a web process serving a thousand
    # waiting clients) and a Postgres connection opened after them
    spare: list[int] = []
    try:
        while not spare or spare[-1] < 1030:
            spare.append(os.dup(0))
        with psycopg.connect(conninfo(), autocommit=True) as conn:
            assert conn.fileno() > 1024

            # then its check answers: alive while idle, closed once the server hangs up on it
            assert server_closed(conn) is False
            with connection.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
            deadline = time.monotonic() + 5
            while not server_closed(conn) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server_closed(conn) is True
    finally:
        for fd in spare:
            os.close(fd)
