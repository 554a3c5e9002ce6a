"""Structured logs: ids from the context on every line, JSON or text, credentials scrubbed."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.test import Client

from atrium.core.logs import (
    ContextFilter,
    JSONFormatter,
    TextFormatter,
    current_log_ids,
    log_ids,
    logging_config,
    redact,
)
from atrium.core.tenancy import Role, Scope, scoped


def a_record(message: str, *args: object) -> logging.LogRecord:
    record = logging.LogRecord("atrium.test", logging.INFO, __file__, 1, message, args, None)
    ContextFilter().filter(record)
    return record


def test_a_json_line_carries_the_contexts_ids_and_the_scopes_org():
    org = uuid.uuid4()
    with scoped(Scope(user_id=1, org_id=org, role=Role.BUILDER)), log_ids(request_id="req-1", run_id="r1"):
        line = JSONFormatter().format(a_record("claimed %s", "r1"))
    entry = json.loads(line)
    assert entry["message"] == "claimed r1"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "atrium.test"
    assert entry["request_id"] == "req-1"
    assert entry["run_id"] == "r1"
    assert entry["org_id"] == str(org)
    assert "thread_id" not in entry  # unknown ids are left out, not empty


def test_ids_end_with_their_context():
    with log_ids(run_id="r1"), log_ids(thread_id="t1"):
        assert current_log_ids() == {"run_id": "r1", "thread_id": "t1"}
    assert current_log_ids() == {}


@pytest.mark.parametrize(
    "secret",
    [
        "atr_0123456789ab_Zm9vYmFyYmF6cXV4LXNlY3JldC12YWx1ZQ",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
        "sk-proj-0123456789abcdefABCDEF",
    ],
)
def test_credentials_are_scrubbed_in_both_formats(secret):
    for formatter in (JSONFormatter(), TextFormatter()):
        line = formatter.format(a_record("calling upstream with %s", secret))
        assert secret not in line
        assert "[REDACTED]" in line


def test_labelled_secrets_and_tracebacks_are_scrubbed():
    text = redact('password=hunter2 {"api_key": "abc123def", "client_secret": "s3cr3t-value"} token: xyz789')
    for secret in ("hunter2", "abc123def", "s3cr3t-value", "xyz789"):
        assert secret not in text
    try:
        raise ValueError("refused key atr_0123456789ab_Zm9vYmFyYmF6cXV4LXNlY3JldA")
    except ValueError:
        record = a_record("failed")
        record.exc_info = __import__("sys").exc_info()
    entry = json.loads(JSONFormatter().format(record))
    assert "Zm9vYmFyYmF6cXV4LXNlY3JldA" not in entry["exc"]
    assert "ValueError" in entry["exc"]


def test_the_format_setting_is_checked():
    assert logging_config(level="INFO", fmt="json")["handlers"]["console"]["formatter"] == "json"  # type: ignore[index]
    with pytest.raises(ValueError, match="ATRIUM_LOG_FORMAT"):
        logging_config(level="INFO", fmt="yaml")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/me", "/agent/ok", "/healthz"])
def test_every_response_names_its_request_id(path):
    # given a caller that sends its own id, and one that sends a header that is not an id
    mine = Client().get(path, HTTP_X_REQUEST_ID="caller-id-42")
    bad = Client().get(path, HTTP_X_REQUEST_ID="not an id\u00e9")
    assert mine["X-Request-ID"] == "caller-id-42"
    assert bad["X-Request-ID"] != "not an id\u00e9"
    assert len(bad["X-Request-ID"]) == 32
