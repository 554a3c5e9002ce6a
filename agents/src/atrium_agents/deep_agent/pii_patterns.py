"""Custom PII patterns: compiled with the `regex` package, whose matching takes a `timeout=` (the
standard `re` cannot be interrupted), and probed when an assistant's settings are validated."""

from __future__ import annotations

import functools
from typing import Any

import regex

# Probes: runs of one character (each character the pattern is written with, and a few common ones)
# ending in characters that make a match fail, so a backtracking pattern tries every split. Short
# enough that a merely quadratic pattern passes (the run-time budget bounds it), long enough that an
# exponential one cannot.
_PROBE_LENGTH = 1000
_PROBE_SECONDS = 0.05
_PROBE_CHARS = "a1 .@-_"
_PROBE_TAILS = ("!", "\n", "\x00")


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern (`regex.error` if it does not compile)."""
    return regex.compile(pattern)


@functools.lru_cache(maxsize=256)
def pattern_problem(pattern: str) -> str | None:
    """Why a custom PII pattern is refused (it does not compile, or is slow on a probe), or None."""
    try:
        compiled = compile_pattern(pattern)
    except (regex.error, TypeError, ValueError) as exc:
        return f"does not compile: {exc}"
    for char in sorted({c for c in pattern if c.isprintable()} | set(_PROBE_CHARS)):
        for tail in _PROBE_TAILS:
            try:
                compiled.search(char * _PROBE_LENGTH + tail, timeout=_PROBE_SECONDS)
            except TimeoutError:
                return "is too slow on some input (a repetition inside a repetition?)"
    return None
