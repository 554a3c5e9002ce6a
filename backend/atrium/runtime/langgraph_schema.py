"""Create or upgrade LangGraph's checkpoint and store tables (idempotent; run from a migration)."""

from __future__ import annotations

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.store.postgres import PostgresStore

from atrium.runtime.db import CONNECTION_KWARGS, conninfo


def setup_langgraph_tables(alias: str = "default") -> None:
    # CREATE INDEX CONCURRENTLY cannot run in a transaction: use an autocommit connection of our own.
    with psycopg.connect(conninfo(alias), **CONNECTION_KWARGS) as conn:
        PostgresSaver(conn).setup()  # type: ignore[arg-type]
        PostgresStore(conn).setup()  # type: ignore[arg-type]
