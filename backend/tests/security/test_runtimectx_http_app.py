"""Issue 20, `http.app`: the project's own ASGI app (langgraph.json `"http": {"app": ...}`) answers
under the Agent API's root, behind the API's authentication unless the project turns it off
(`"enable_custom_route_auth": false`), and its routes are listed in the API's OpenAPI document. Before,
the app was not mounted: every one of its routes was a 404.

The live stack's project (conformance `graphs/langgraph.json`) names `graphs/webapp.py`, a Starlette
app with `/hello` (names the caller), `/echo` (POST) and `/countdown` (streamed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import AsyncClient

from atrium.assistants.graphs import registry
from atrium.runtime.tests.live_stack import LiveStack
from config import custom_routes

HERE = Path(__file__).resolve().parent


def _get(stack: LiveStack, who: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{stack.url}{path}", headers=stack.headers(who), timeout=15, **kwargs)


def test_the_projects_routes_answer_next_to_the_api_for_its_members(stack: LiveStack) -> None:
    me = httpx.get(f"{stack.base_url}/api/v1/me", headers=stack.headers("viewer"), timeout=10).json()
    # When a member calls the app's routes under the API's root
    hello = _get(stack, "viewer", "/hello", params={"q": "1"})
    echo = httpx.post(f"{stack.url}/echo", json={"a": [1, 2]}, headers=stack.headers("editor"), timeout=15)
    countdown = _get(stack, "editor", "/countdown")
    # Then the app answers them, knowing who calls, with its own status codes, headers and streams
    assert hello.status_code == 200, hello.text
    assert hello.json() == {
        "hello": "world",
        "identity": str(me["id"]),
        "path": "/agent/hello",
        "query": {"q": "1"},
        "started": True,
    }
    assert echo.status_code == 201, echo.text
    assert echo.json() == {"echo": {"a": [1, 2]}}
    assert echo.headers["x-project"] == "yes"
    assert countdown.status_code == 200
    assert countdown.text == "3\n2\n1\n"
    # And the API's own routes are still the API's
    assert _get(stack, "viewer", "/info").json()["version"]
    assert _get(stack, "viewer", "/no-such-route").status_code == 404


def test_the_projects_routes_refuse_whom_the_api_refuses(stack: LiveStack) -> None:
    # Without credentials, with a bad key, and a viewer writing
    anonymous = httpx.get(f"{stack.url}/hello", timeout=15)
    bad_key = httpx.get(f"{stack.url}/hello", headers={"x-api-key": "atr_not-a-key"}, timeout=15)
    viewer_writes = httpx.post(f"{stack.url}/echo", json={}, headers=stack.headers("viewer"), timeout=15)
    # Then each is refused as the API refuses it, in its error shape
    assert anonymous.status_code == 401, anonymous.text
    assert bad_key.status_code == 401, bad_key.text
    assert viewer_writes.status_code == 403, viewer_writes.text
    for response in (anonymous, bad_key, viewer_writes):
        assert set(response.json()) == {"detail"}
        assert "echo" not in response.text


def test_the_projects_routes_are_in_the_openapi_document(stack: LiveStack) -> None:
    document = _get(stack, "viewer", "/openapi.json").json()
    assert (
        set(document["paths"]["/agent/hello"]) == {"get", "head"}
        or "get" in document["paths"]["/agent/hello"]
    )
    assert "post" in document["paths"]["/agent/echo"]
    assert "post" in document["paths"]["/agent/threads"]  # the API's own, unchanged


@pytest.fixture
def project(settings: Any) -> Iterator[Any]:
    def use(name: str) -> None:
        settings.ATRIUM_GRAPHS = HERE / name / "langgraph.json"
        registry.cache_clear()
        custom_routes.reset()

    yield use
    registry.cache_clear()
    custom_routes.reset()


@pytest.mark.django_db
async def test_a_project_may_make_its_routes_public(project: Any) -> None:
    # Given a project whose http settings turn the API's authentication off for its routes
    project("http_public")
    # When anyone calls them
    response = await AsyncClient().get("/agent/hello")
    # Then the app answers, with no user
    assert response.status_code == 200
    body = b"".join([chunk async for chunk in response.streaming_content])
    assert b'"identity":null' in body
    # But the API's own routes still need credentials
    assert (
        await AsyncClient().post("/agent/threads/search", {}, content_type="application/json")
    ).status_code == 401


@pytest.mark.django_db
async def test_an_app_that_does_not_load_is_refused_with_the_reason(project: Any) -> None:
    project("http_broken")
    response = await AsyncClient().get("/agent/hello", headers={"x-api-key": "anything"})
    assert response.status_code == 503
    assert "missing.py" in response.json()["detail"]


def test_a_fastapi_apps_own_document_is_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    """A FastAPI app exposes its OpenAPI document (`app.openapi()`): its paths and schemas are taken."""

    class FastAPILike:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            raise NotImplementedError

        def openapi(self) -> dict[str, Any]:
            return {
                "paths": {"/items": {"get": {"responses": {"200": {"description": "ok"}}}}},
                "components": {"schemas": {"Item": {"type": "object"}}},
            }

    monkeypatch.setattr(custom_routes, "project_app", FastAPILike)
    from config.agent_api import api

    document = api.get_openapi_schema(path_prefix="/agent/")
    assert "get" in document["paths"]["/agent/items"]
    assert document["components"]["schemas"]["Item"] == {"type": "object"}
    assert "/agent/threads" in document["paths"]
