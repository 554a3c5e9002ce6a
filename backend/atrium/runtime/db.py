"""Connections for LangGraph's Postgres checkpointer and store, from Django's database settings.

LangGraph talks to psycopg directly (autocommit, dict rows, no server-side prepares so it survives
connection poolers); these helpers give it connections to the same database Django uses.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

CONNECTION_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None, "row_factory": dict_row}


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
