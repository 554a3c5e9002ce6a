"""Where Atrium leans on a library's internals, one module per coupling, and nowhere else.

Each adapter here reaches past a library's public API (for speed, or to survive a failure the library
does not handle) and has:

- an upper-bound pin on the library in `backend/pyproject.toml`, with the installed version inside it;
- a contract test in `atrium/runtime/tests/adapters/` that fails, naming the adapter and the runbook,
  when the internal it relies on changes;
- a switch back to the library's stock path: `ATRIUM_STOCK_LIBRARY_PATHS=<name>,...` (or `all`).

docs/runbooks/upgrade-dependencies.md says how to upgrade a pinned library; ADR 0021 says why.
This package imports no Django at import time: settings read `ADAPTERS` while they load.
"""

from __future__ import annotations

RUNBOOK = "docs/runbooks/upgrade-dependencies.md"
# name: (library, what the adapter overrides)
ADAPTERS: dict[str, tuple[str, str]] = {
    "kombu_redis": ("kombu", "the Redis transport's channel: its pool after a lost broker, one sync client"),
    "psycopg_pool": ("psycopg-pool", "the pool's reconnect backoff (capped at a second)"),
    "langgraph_store": (
        "langgraph-checkpoint-postgres",
        "AsyncPostgresStore's read batches without a pipeline",
    ),
    "celery_message": ("celery", "the run task's broker message, built by hand and LPUSHed"),
    "django_asgi": ("django", "ASGIHandler.handle, with the request signals inline on the loop"),
    "langgraph_checkpoint": (
        "langgraph-checkpoint-postgres",
        "AsyncPostgresSaver's write SQL, rewritten into one fenced statement per step",
    ),
}


def stock(name: str) -> bool:
    """Whether adapter `name` is on its library's stock path (settings.ATRIUM_STOCK_LIBRARY_PATHS)."""
    from django.conf import settings

    assert name in ADAPTERS, name
    return name in settings.ATRIUM_STOCK_LIBRARY_PATHS
