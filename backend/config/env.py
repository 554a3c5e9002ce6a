"""The one place Atrium reads its environment.

Every variable is documented in `.env.example`. Helpers fail loudly on a missing required variable
or a malformed value rather than letting a typo fall back to a default in production.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


class ImproperlyConfiguredError(RuntimeError):
    pass


_MISSING = object()


def env_str(name: str, default: Any = _MISSING) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfiguredError(f"Set the environment variable {name} (see .env.example).")
        return str(default)
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfiguredError(f"{name} must be a boolean (true/false), got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfiguredError(f"{name} must be an integer, got {value!r}.") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfiguredError(f"{name} must be a number, got {value!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_subset(name: str, choices: Iterable[str]) -> frozenset[str]:
    """Comma-separated names out of `choices` (`all` is every one); an unknown name fails at start-up."""
    chosen = set(env_list(name, []))
    if "all" in chosen:
        return frozenset(choices)
    unknown = sorted(chosen - set(choices))
    if unknown:
        raise ImproperlyConfiguredError(f"{name}: unknown names {unknown}; known: {sorted(choices)}.")
    return frozenset(chosen)


def env_int_list(name: str, default: list[int]) -> list[int]:
    """Comma-separated integers (e.g. ports)."""
    try:
        return [int(item) for item in env_list(name, [str(d) for d in default])]
    except ValueError as exc:
        raise ImproperlyConfiguredError(f"{name} must be comma-separated integers.") from exc


def env_json(name: str, default: Any) -> Any:
    """A JSON value (e.g. a list of provider configurations); malformed JSON fails at start-up."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfiguredError(f"{name} must be JSON: {exc}") from exc


def env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def database_from_url(url: str, *, pool: bool) -> dict[str, Any]:
    """Turn `postgres://user:pass@host:port/name?opt=v` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ImproperlyConfiguredError(
            "DATABASE_URL must be a postgres:// URL; Atrium runs on Postgres only."
        )
    options: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    host = unquote(parsed.hostname or "")
    # A socket directory may be given as ?host=/path, the libpq way.
    host = options.pop("host", host)
    if pool:
        options["pool"] = {"min_size": 1, "max_size": env_int("ATRIUM_DB_POOL_SIZE", 20), "timeout": 10}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
        "ATOMIC_REQUESTS": False,
    }
