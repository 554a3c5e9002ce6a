"""Which request headers a run carries to its graph: `x-*` and user-agent, never credentials."""

from __future__ import annotations

from django.test import RequestFactory

from atrium.runtime.api.runs import _forwarded_headers


def test_credential_looking_headers_are_neither_stored_nor_forwarded() -> None:
    request = RequestFactory().post(
        "/agent/runs",
        headers={
            "X-Trace": "t-1",
            "User-Agent": "sdk/1",
            "X-Auth-Token": "tok",
            "X-Session-Id": "s",
            "X-Upstream-Key": "k",
            "X-Api-Key": "atr_x",
            "Authorization": "Bearer b",
        },
    )
    assert _forwarded_headers(request) == {"x-trace": "t-1", "user-agent": "sdk/1"}
