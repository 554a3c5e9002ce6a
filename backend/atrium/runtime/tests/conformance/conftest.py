"""The conformance suite's live stack (`live_stack`) is `atrium.runtime.tests.live_stack`, loaded for the
whole session by `backend/conftest.py`, so this suite and `backend/tests/security/` share one stack.
The names below are re-exported for the modules that import them from here; `stack`, `client`
and `http` are this suite's shorthands."""

from atrium.runtime.tests.live_stack import (
    CORS_ORIGIN,
    SUITE_FIXTURES,
    XDIST_INDEX,
    LiveStack,
    _database_url,
    _free_port,
    _redis_url,
    _seed,
    _start,
    _stop,
    _wait_disconnected,
    _wait_ok,
)

__all__ = [
    "CORS_ORIGIN",
    "XDIST_INDEX",
    "LiveStack",
    "_database_url",
    "_free_port",
    "_redis_url",
    "_seed",
    "_start",
    "_stop",
    "_wait_disconnected",
    "_wait_ok",
]


stack, client, http = SUITE_FIXTURES
