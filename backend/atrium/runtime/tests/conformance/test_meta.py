"""§0 meta routes: /ok and /info answer without credentials."""

from __future__ import annotations

import httpx

from atrium.runtime.tests.conformance.conftest import LiveStack


def test_ok_is_unauthenticated(stack: LiveStack) -> None:
    response = httpx.get(f"{stack.url}/ok")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_info_reports_versions_and_flags(stack: LiveStack) -> None:
    response = httpx.get(f"{stack.url}/info")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["version"], str)
    assert isinstance(body["langgraph_py_version"], str)
    assert body["flags"]["assistants"] is True
    assert body["flags"]["crons"] is True
    assert "host" in body
