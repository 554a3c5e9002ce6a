"""What the adapters' contract tests share: a library internal an adapter relies on, held to the text
it had when the adapter was last checked against it."""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from typing import Any

from atrium.runtime.adapters import ADAPTERS, RUNBOOK


def source_hash(obj: Any) -> str:
    """The first 16 hex digits of the SHA-256 of `obj`'s source, dedented."""
    return hashlib.sha256(textwrap.dedent(inspect.getsource(obj)).encode()).hexdigest()[:16]


def broken(adapter: str, what: str, detail: str) -> str:
    library = ADAPTERS[adapter][0]
    return (
        f"ADAPTER CONTRACT BROKEN: atrium/runtime/adapters/{adapter}.py relies on {library}'s {what}, "
        f"which changed ({detail}). Follow {RUNBOOK}: re-read the adapter against the new code and "
        f"update it and this test, or run on the stock path with ATRIUM_STOCK_LIBRARY_PATHS={adapter}."
    )


def assert_source(adapter: str, what: str, obj: Any, expected: str) -> None:
    """Fail, naming the adapter and the runbook, when `obj`'s source is no longer what it was."""
    actual = source_hash(obj)
    assert actual == expected, broken(adapter, what, f"source hash {expected} is now {actual}")


def assert_signature(adapter: str, what: str, obj: Any, expected: str) -> None:
    actual = str(inspect.signature(obj))
    assert actual == expected, broken(adapter, what, f"signature {expected} is now {actual}")
