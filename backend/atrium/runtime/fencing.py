"""Checkpoint writes fenced by the run's lease: a worker that lost its run can no longer write its state.

The saver that does it leans on LangGraph's internals, so it lives in its adapter,
atrium/runtime/adapters/langgraph_checkpoint.py (ADR 0013, 0014, 0021); its names stay importable here.
"""

from __future__ import annotations

from typing import Any

from atrium.runtime.adapters.langgraph_checkpoint import (
    MAX_PARAMETERS,
    FencedSaver,
    RunFencedError,
    one_statement,
)

__all__ = ("MAX_PARAMETERS", "FencedSaver", "RunFencedError", "caused_by", "one_statement")


def caused_by(error: Any, kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    """Whether an attempt's error, or what caused it, is of `kind` (graphs wrap the errors they meet)."""
    seen = 0
    while isinstance(error, BaseException) and seen < 10:
        if isinstance(error, kind):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
