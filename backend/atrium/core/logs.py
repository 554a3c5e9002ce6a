"""Structured logs: the ids of what a line is about, one line per record, secrets scrubbed.

Every record gets `request_id`, `org_id`, `run_id` and `thread_id` (empty when unknown) from context
variables: the request middleware binds a request id, the tenancy scope gives the org, and the worker
binds the run's ids while it executes one. Context variables follow a request into `sync_to_async`
threads and stay inside the asyncio task that set them, so ids never leak between requests or runs.

`ATRIUM_LOG_FORMAT=json` prints one JSON object per line (for a log pipeline), `text` a readable line
with the same ids. Both formatters scrub what looks like a credential from the message and traceback
(API keys, bearer tokens, `password=`/`secret=`/`token=`/`api_key=` values), so a secret that reaches
a log call by mistake is still not written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

LOG_IDS = ("request_id", "org_id", "run_id", "thread_id")

_ids: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("atrium_log_ids", default={})  # noqa: B039


def bind_log_ids(**ids: object) -> contextvars.Token[dict[str, str]]:
    """Add ids to the current context (until `reset_log_ids(token)` or the end of the asyncio task)."""
    given = {key: str(value) for key, value in ids.items() if value not in (None, "")}
    return _ids.set({**_ids.get(), **given})


def reset_log_ids(token: contextvars.Token[dict[str, str]]) -> None:
    _ids.reset(token)


@contextmanager
def log_ids(**ids: object) -> Iterator[None]:
    token = bind_log_ids(**ids)
    try:
        yield
    finally:
        reset_log_ids(token)


def current_log_ids() -> dict[str, str]:
    # Imported here: logging is configured before Django's apps load, and tenancy defines a model.
    from atrium.core.tenancy import current_scope_or_none

    ids = dict(_ids.get())
    if "org_id" not in ids:
        scope = current_scope_or_none()
        if scope is not None and scope.org_id is not None:
            ids["org_id"] = str(scope.org_id)
    return ids


class ContextFilter(logging.Filter):
    """Puts the context's ids on every record (as attributes, for any formatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current_log_ids()
        for name in LOG_IDS:
            if not getattr(record, name, None):
                setattr(record, name, ids.get(name, ""))
        return True


_SECRETS = [
    # Atrium API keys: atr_<prefix>_<secret>
    (re.compile(r"\batr_[0-9a-f]{6,}_[A-Za-z0-9_\-]{8,}"), "atr_[REDACTED]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"), r"\1 [REDACTED]"),
    # key=value, key: value, "key": "value" for credential-like keys
    (
        re.compile(
            r"(?i)([\"']?\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|authorization|credential)"
            r"[\w-]*[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]{3,})"
        ),
        r"\1[REDACTED]",
    ),
    # Provider keys that travel without a label (OpenAI/Anthropic style).
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"), "sk-[REDACTED]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class TextFormatter(logging.Formatter):
    default_fmt = "%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s"

    def __init__(self) -> None:
        super().__init__(self.default_fmt)

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{name}={getattr(record, name)}" for name in LOG_IDS if getattr(record, name, ""))
        record.ids = f" [{ids}]" if ids else ""
        return redact(super().format(record))


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in LOG_IDS:
            value = getattr(record, name, "")
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        for key in ("message", "exc"):
            if key in entry:
                entry[key] = redact(str(entry[key]))
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, level: str, fmt: str) -> dict[str, object]:
    """The `LOGGING` dict for settings (also applied to Celery's processes)."""
    if fmt not in ("text", "json"):
        raise ValueError(f"ATRIUM_LOG_FORMAT must be 'text' or 'json', not {fmt!r}.")
    formatter = fmt
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "atrium.core.logs.ContextFilter"}},
        "formatters": {
            "text": {"()": "atrium.core.logs.TextFormatter"},
            "json": {"()": "atrium.core.logs.JSONFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": formatter, "filters": ["context"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Celery's own loggers propagate to the root handler (one format for every line).
            "celery": {"level": level},
        },
    }
