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


async def test_cors_for_browser_clients(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§0 CORS: preflight allows the SDK headers; responses expose Content-Location, Location and the
    pagination headers to a listed origin (with credentials)."""
    from atrium.runtime.tests.conformance.conftest import CORS_ORIGIN

    preflight = await http.options(
        "/threads/00000000-0000-0000-0000-000000000000/runs/stream",
        headers={
            "Origin": CORS_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key,last-event-id",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == CORS_ORIGIN
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(h in allowed for h in ("x-api-key", "last-event-id", "content-type"))
    response = await http.post("/threads/search", json={"limit": 1}, headers={"Origin": CORS_ORIGIN})
    assert response.headers["access-control-allow-origin"] == CORS_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {
        "content-location",
        "location",
        "x-pagination-next",
        "x-pagination-total",
        "retry-after",
    } <= exposed
    other = await http.post("/threads/search", json={"limit": 1}, headers={"Origin": "http://elsewhere.test"})
    assert "access-control-allow-origin" not in other.headers
