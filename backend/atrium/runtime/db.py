"""Connections for LangGraph's Postgres checkpointer and store, from Django's database settings.

LangGraph talks to psycopg directly (autocommit, dict rows); these helpers give it connections to the
same database Django uses. Its statements are prepared on each connection at first use (the worker
sends the same few checkpoint statements all day: Postgres then skips parsing and planning them).
Behind a pooler that cannot keep prepared statements per client (PgBouncer in transaction mode before
1.21), set ATRIUM_DB_PREPARED_STATEMENTS=false.
"""

from __future__ import annotations

import contextlib
import functools
import select
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import psycopg
from django.conf import settings
from django.db import connection, connections
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

P = ParamSpec("P")
T = TypeVar("T")
CONNECTION_KWARGS: dict[str, Any] = {
    "autocommit": True,
    "prepare_threshold": 0 if settings.ATRIUM_DB_PREPARED_STATEMENTS else None,
    "row_factory": dict_row,
}


def conninfo(alias: str = "default") -> str:
    """The libpq connection string of Django's database `alias` (the test database under pytest)."""
    settings = connections[alias].settings_dict
    params = {
        "dbname": settings["NAME"],
        "user": settings.get("USER") or None,
        "password": settings.get("PASSWORD") or None,
        "host": settings.get("HOST") or None,
        "port": settings.get("PORT") or None,
    }
    return make_conninfo("", **{k: v for k, v in params.items() if v})


def server_closed(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether the server hung up on an idle connection, without a round trip. An idle connection
    has nothing to read; if its socket is readable, the server closed it (a restart sends each client
    a FATAL message, then hangs up)."""
    if conn.closed or conn.broken:
        return True
    # poll, not select: a process serving a thousand clients has descriptors past select's 1,024.
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(0))


async def check_idle(conn: psycopg.AsyncConnection[Any]) -> None:
    """The runtime pool's check at checkout: raising makes the pool drop a connection the server
    closed and hand out a fresh one, so a Postgres restart fails no request or run beyond the
    statement that was in flight."""
    if server_closed(conn):
        await conn.close()  # closed, so the pool discards it instead of taking it back as idle
        raise psycopg.OperationalError("the server closed the connection")


def with_live_connection(fn: Callable[P, T]) -> Callable[P, T]:
    """Run `fn` on this thread's Django connection, replaced first if the server closed it. The API
    runs its sync calls on executor threads that keep their connection between requests (no request
    signals reach them), so after a Postgres restart each would otherwise fail one request."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        raw = connection.connection
        if raw is not None and server_closed(raw):
            raw.close()  # closed first, so a pool takes it back as dead rather than idle
            connection.close()
        return fn(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def prepared_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A cursor on this thread's Django connection, in its current transaction, for the worker's and
    the API's hot statements: server-side binding, so Postgres prepares each statement once per
    connection instead of parsing and planning it on every run (ATRIUM_DB_PREPARED_STATEMENTS).
    Errors come out as Django's, as from `connection.cursor()`; rows are tuples."""
    connection.ensure_connection()
    raw = connection.connection
    if settings.ATRIUM_DB_PREPARED_STATEMENTS and raw.prepare_threshold is None:
        raw.prepare_threshold = 0  # only server-binding cursors prepare: Django's own cursors never do
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cur:
        yield cur
