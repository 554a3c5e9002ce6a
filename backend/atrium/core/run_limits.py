"""How long and how many steps a run may take: the assistant's, the org's and the operator's caps.

The step cap is LangGraph's own `recursion_limit` (supersteps before `GraphRecursionError`). The
Agent Server protocol names no per-run wall-clock key, so Atrium reads one top-level config key,
`max_run_seconds`, beside it. Both may be set in an assistant's config and in a run's (or thread's)
config; the org's settings and the deployment's (`ATRIUM_RUN_MAX_SECONDS`, `ATRIUM_RUN_MAX_STEPS`)
cap them. The lowest cap wins: a request, a thread or an org can lower a limit, never raise it above
the assistant's or the operator's.

Also which top-level keys a config may carry at all (`CONFIG_KEYS`): LangGraph copies every other
top-level key of a run's config into `configurable`, after the server's own values, so a key such
as `thread_id` or `user_id` there would point the run at another thread or user.

Pure functions on plain values, so the assistant and run APIs validate with the same rules the
worker applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STEPS_KEY = "recursion_limit"
SECONDS_KEY = "max_run_seconds"
_LIMIT_KEYS = (STEPS_KEY, SECONDS_KEY)
# Larger numbers are no limit at all, and Postgres integers and LangGraph counters must hold them.
_MAX_VALUE = 2**31 - 1


# LangGraph's RunnableConfig keys a JSON request can carry, and the wall-clock limit.
CONFIG_KEYS = frozenset(
    {"configurable", "tags", "metadata", "run_name", "max_concurrency", STEPS_KEY, SECONDS_KEY}
)


def config_error(config: Mapping[str, Any] | None, *, where: str = "config") -> str | None:
    """Why a config (an assistant's, a thread's, a run's or a cron's) is refused, naming the key."""
    unknown = sorted(set(config or {}) - CONFIG_KEYS)
    if unknown:
        return f"{where}.{unknown[0]} is not a config key Atrium accepts; put settings in context."
    return config_limits_error(config, where=where)


def config_known(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """`config` without the top-level keys a config may not carry (for layers saved before the rule)."""
    return {k: v for k, v in (config or {}).items() if k in CONFIG_KEYS}


def config_limits_error(config: Mapping[str, Any] | None, *, where: str = "config") -> str | None:
    """Why a config's run limits are invalid (naming the key), or None. Absent keys are fine."""
    for key in _LIMIT_KEYS:
        value = (config or {}).get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_VALUE:
            return f"{where}.{key} must be a whole number from 1 to {_MAX_VALUE}."
    return None


def _limit(config: Mapping[str, Any] | None, key: str) -> int | None:
    """A valid limit from a config (invalid ones were refused at the door; anything else is ignored)."""
    value = (config or {}).get(key)
    return value if config_limits_error({key: value}) is None and isinstance(value, int) else None


@dataclass(frozen=True)
class RunLimits:
    steps: int | None
    """The `recursion_limit` the run executes with; None: LangGraph's default (no cap anywhere)."""
    seconds: int | None
    """Wall-clock seconds the attempt may run; None: no cap."""


def run_limits_resolve(
    *,
    assistant_config: Mapping[str, Any] | None,
    requested_config: Mapping[str, Any] | None,
    graph_steps: int | None,
    org_steps: int | None,
    org_seconds: int | None,
    operator_steps: int,
    operator_seconds: int,
) -> RunLimits:
    """The limits one run executes with.

    `requested_config` is the merged run config (assistant → thread → request); `graph_steps` the
    `recursion_limit` the graph itself binds (None: LangGraph's default), used when the run sets none.
    Operator values of 0 mean no operator cap; org values are None when the org leaves them to the
    operator.
    """
    caps_steps = [_limit(assistant_config, STEPS_KEY), org_steps, operator_steps or None]
    caps_seconds = [_limit(assistant_config, SECONDS_KEY), org_seconds, operator_seconds or None]
    steps = [cap for cap in (_limit(requested_config, STEPS_KEY) or graph_steps, *caps_steps) if cap]
    seconds = [cap for cap in (_limit(requested_config, SECONDS_KEY), *caps_seconds) if cap]
    return RunLimits(steps=min(steps) if steps else None, seconds=min(seconds) if seconds else None)
