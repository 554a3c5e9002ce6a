"""Browser clients of /agent in development (issue 20): `make dev` accepts pages on loopback origins on
any port, as `langgraph dev` does, without credentials; elsewhere only the configured origins pass.

Each test builds the Agent API's own ASGI handler (config.asgi) under the settings it tries, and sends
what a browser sends: the preflight before a cross-origin `fetch`, then the request itself."""

from __future__ import annotations

import httpx
import pytest
from django.test import override_settings

from config.asgi import AgentASGIHandler

SDK_HEADERS = "content-type,x-api-key,authorization,x-atrium-org,last-event-id"
RUN_STREAM = "/agent/threads/00000000-0000-0000-0000-000000000000/runs/stream"


async def preflight(http: httpx.AsyncClient, origin: str, path: str = RUN_STREAM) -> httpx.Response:
    return await http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": SDK_HEADERS,
        },
    )


def agent_api(**overrides: object) -> httpx.AsyncClient:
    with override_settings(**overrides):
        handler = AgentASGIHandler()  # reads the CORS settings as it builds its middleware
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=handler), base_url="http://testserver")


DEV = {"ATRIUM_CORS_ALLOW_LOOPBACK": True, "ATRIUM_CORS_ORIGINS": []}
PRODUCTION = {"ATRIUM_CORS_ALLOW_LOOPBACK": False, "ATRIUM_CORS_ORIGINS": ["https://chat.example.com"]}


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8123"])
async def test_dev_preflight_from_a_loopback_origin_is_answered_with_the_origin(origin: str) -> None:
    """Given `make dev`'s settings, a local chat UI's preflight for a streamed run passes."""
    async with agent_api(**DEV) as http:
        response = await preflight(http, origin)

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-credentials" not in response.headers
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].lower().split(",")}
    assert set(SDK_HEADERS.split(",")) <= allowed
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods


async def test_dev_preflight_on_any_agent_route_and_exposed_headers_on_the_answer() -> None:
    """Preflights are answered before routing (no 405 on routes without OPTIONS), and the answer to
    the request itself exposes the headers the SDKs read."""
    origin = "http://localhost:3000"
    async with agent_api(**DEV) as http:
        for path in ("/agent/assistants/search", "/agent/threads", "/agent/store/items", "/agent/no-such"):
            response = await preflight(http, origin, path)
            assert response.status_code == 204, path
            assert response.headers["access-control-allow-origin"] == origin
        answer = await http.get("/agent/ok", headers={"Origin": origin})

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
    assert "origin" in answer.headers["vary"].lower()
    assert "access-control-allow-credentials" not in answer.headers
    exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"content-location", "location", "x-pagination-next", "retry-after"} <= exposed


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://localhost.evil.example", "http://127.0.0.1.evil.example:80"]
)
async def test_dev_other_origins_get_no_allow_origin(origin: str) -> None:
    async with agent_api(**DEV) as http:
        response = await preflight(http, origin)
        answer = await http.get("/agent/ok", headers={"Origin": origin})

    assert response.status_code == 403
    assert "is not allowed" in response.json()["detail"]
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in answer.headers


async def test_production_accepts_only_the_configured_origins() -> None:
    """With the setting off (production's default), loopback origins are refused like any other; the
    configured origin passes, with credentials."""
    async with agent_api(**PRODUCTION) as http:
        local = await preflight(http, "http://localhost:3000")
        local_answer = await http.get("/agent/ok", headers={"Origin": "http://localhost:3000"})
        listed = await preflight(http, "https://chat.example.com")

    assert local.status_code == 403
    assert "access-control-allow-origin" not in local.headers
    assert "access-control-allow-origin" not in local_answer.headers
    assert listed.status_code == 204
    assert listed.headers["access-control-allow-origin"] == "https://chat.example.com"
    assert listed.headers["access-control-allow-credentials"] == "true"


async def test_a_listed_public_origin_may_reach_a_loopback_server() -> None:
    """Chrome's private network access preflight (a hosted studio calling `make dev`'s server) is
    allowed for a listed origin only."""
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Private-Network": "true",
    }
    async with agent_api(**PRODUCTION) as http:
        listed = await http.options(RUN_STREAM, headers={"Origin": "https://chat.example.com", **ask})
        other = await http.options(RUN_STREAM, headers={"Origin": "https://evil.example", **ask})

    assert listed.status_code == 204
    assert listed.headers["access-control-allow-private-network"] == "true"
    assert other.status_code == 403
    assert "access-control-allow-private-network" not in other.headers


def test_loopback_is_on_in_dev_settings_and_off_in_production_settings() -> None:
    """The default per settings module, read in a fresh interpreter as each server would."""
    import os
    import subprocess
    import sys

    def read(module: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "ATRIUM_CORS_ALLOW_LOOPBACK"}
        env |= {
            "DJANGO_SETTINGS_MODULE": module,
            "ATRIUM_SECRET_KEY": "a-real-looking-key-for-this-check-only",
            "ATRIUM_VAULT_KEYS": "k1:" + "A" * 43 + "=",
        }
        code = (
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.ATRIUM_CORS_ALLOW_LOOPBACK)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert read("config.settings.dev") == "True"
    assert read("config.settings.production") == "False"
