"""Input limits at the door of both APIs: bodies too deep or too large, values the database or the
encoders on the way out cannot hold. Each is refused with a 4xx naming the problem and stores nothing;
a value already stored too deep is still served.

Finding 1: a thread created with metadata nested 400 levels deep answered 500, and from then on
`POST /agent/threads/search` answered 500 for its owner and every admin of the org."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings

from atrium.runtime.tests.live_stack import LiveStack


def nested(depth: int, leaf: Any = "bottom") -> Any:
    """A JSON object `depth` levels deep: {"n": {"n": ... leaf}}."""
    value = leaf
    for _ in range(depth):
        value = {"n": value}
    return value


def depth_of(value: Any) -> int:
    level = 0
    while isinstance(value, dict):
        value, level = value.get("n"), level + 1
    return level


def agent(stack: LiveStack, who: str = "editor") -> httpx.Client:
    return httpx.Client(base_url=stack.url, headers=stack.headers(who), timeout=30)


def control(stack: LiveStack, who: str = "admin") -> httpx.Client:
    return httpx.Client(base_url=f"{stack.base_url}/api/v1", headers=stack.headers(who), timeout=30)


def tagged_threads(api: httpx.Client, tag: str) -> list[dict[str, Any]]:
    response = api.post("/threads/search", json={"metadata": {"tag": tag}, "limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json())


def test_deep_thread_metadata_is_refused_and_search_keeps_answering(stack: LiveStack) -> None:
    tag = uuid.uuid4().hex
    with agent(stack) as api:
        response = api.post("/threads", json={"metadata": {"tag": tag, "deep": nested(400)}})

        assert response.status_code == 422
        assert "ATRIUM_MAX_JSON_DEPTH" in response.json()["detail"]
        assert tagged_threads(api, tag) == []  # nothing stored
        assert api.post("/threads/search", json={}).status_code == 200
    with agent(stack, "admin") as admin:
        assert admin.post("/threads/search", json={}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/threads/{thread}", {"metadata": nested(100)}),
        ("POST", "/threads/{thread}/runs", {"assistant_id": "simple", "input": nested(100)}),
        ("POST", "/runs", {"assistant_id": "simple", "input": {"steps": []}, "config": nested(100)}),
        ("POST", "/assistants", {"graph_id": "simple", "metadata": nested(100)}),
        ("PUT", "/store/items", {"namespace": ["x"], "key": "k", "value": nested(100)}),
        ("POST", "/runs/crons", {"assistant_id": "simple", "schedule": "0 0 * * *", "input": nested(100)}),
    ],
)
def test_deep_bodies_are_refused_on_every_agent_write(
    stack: LiveStack, method: str, path: str, body: dict[str, Any]
) -> None:
    with agent(stack) as api:
        thread = api.post("/threads", json={"metadata": {"original": True}}).json()
        response = api.request(method, path.format(thread=thread["thread_id"]), json=body)

        assert response.status_code == 422, response.text
        assert "ATRIUM_MAX_JSON_DEPTH" in response.json()["detail"]
        # Nothing changed on the thread, and no run was queued on it.
        assert api.get(f"/threads/{thread['thread_id']}").json()["metadata"] == thread["metadata"]
        assert api.get(f"/threads/{thread['thread_id']}/runs").json() == []


def test_nesting_up_to_the_limit_is_accepted(stack: LiveStack) -> None:
    limit = settings.ATRIUM_MAX_JSON_DEPTH
    with agent(stack) as api:
        # The body {"metadata": {"deep": ...}} is two levels around the nested value.
        response = api.post("/threads", json={"metadata": {"deep": nested(limit - 2)}})

        assert response.status_code == 200, response.text
        assert depth_of(response.json()["metadata"]["deep"]) == limit - 2
        too_deep = api.post("/threads", json={"metadata": {"deep": nested(limit - 1)}})
        assert too_deep.status_code == 422


@pytest.fixture
def deep_row_thread(stack: LiveStack, django_db_blocker: Any) -> Iterator[str]:
    """A thread whose metadata was written 400 levels deep straight into the database (as the old
    door let it), then removed."""
    from django.db import connection

    tag = uuid.uuid4().hex
    with agent(stack) as api:
        thread_id = api.post("/threads", json={"metadata": {"tag": tag}}).json()["thread_id"]
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runtime_thread SET metadata = %s::jsonb WHERE id = %s",
            [json.dumps({"tag": tag, "deep": nested(400)}), thread_id],
        )
    yield thread_id
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM runtime_thread WHERE id = %s", [thread_id])


def test_a_deep_row_already_stored_is_served_to_its_owner_and_admins(
    stack: LiveStack, deep_row_thread: str
) -> None:
    for who in ("editor", "admin"):
        with agent(stack, who) as api:
            search = api.post("/threads/search", json={"limit": 1000})
            fetched = api.get(f"/threads/{deep_row_thread}")

            assert search.status_code == 200, search.text
            assert fetched.status_code == 200, fetched.text
            assert depth_of(fetched.json()["metadata"]["deep"]) == 400
            if who == "editor":  # the owner finds it in the list too
                found = [t for t in search.json() if t["thread_id"] == deep_row_thread]
                assert depth_of(found[0]["metadata"]["deep"]) == 400


def test_deep_bodies_are_refused_on_the_control_plane(stack: LiveStack) -> None:
    slug = stack.org_slug()
    tag = uuid.uuid4().hex
    with control(stack) as api:
        response = api.post(
            f"/orgs/{slug}/assistants",
            json={"graph_id": "simple", "name": tag, "config": nested(100)},
        )

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "json_too_deep"
        assert "ATRIUM_MAX_JSON_DEPTH" in response.json()["detail"]
        assistants = api.get(f"/orgs/{slug}/assistants").json()
        assert tag not in json.dumps(assistants)


def test_deep_bodies_are_refused_on_the_v2_and_json_rpc_doors(stack: LiveStack) -> None:
    with agent(stack) as api:
        thread_id = api.post("/threads", json={}).json()["thread_id"]
        command = {"id": 1, "method": "run.start", "params": {"input": nested(100)}}
        v2 = api.post(f"/threads/{thread_id}/commands", json=command)
        mcp = api.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": nested(100)}
        )

        assert v2.status_code == 422, v2.text
        assert "ATRIUM_MAX_JSON_DEPTH" in v2.json()["detail"]
        assert api.get(f"/threads/{thread_id}/runs").json() == []
        assert mcp.status_code < 500, mcp.text
        assert "ATRIUM_MAX_JSON_DEPTH" in mcp.json()["error"]["message"]


def _oversized_json() -> bytes:
    padding = "x" * (settings.ATRIUM_MAX_BODY_BYTES + 1)
    return json.dumps({"metadata": {"padding": padding}}).encode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bodies_over_the_size_limit_are_413_on_both_apis(stack: LiveStack, chunked: bool) -> None:
    body = _oversized_json()

    def content() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    payload: Any = content() if chunked else body
    headers = {"content-type": "application/json"}
    with agent(stack) as api:
        before = api.post("/threads/count", json={}).json()
        response = api.post("/threads", content=payload, headers=headers)

        assert response.status_code == 413, response.text
        assert "ATRIUM_MAX_BODY_BYTES" in response.json()["detail"]
        assert api.post("/threads/count", json={}).json() == before
    slug = stack.org_slug()
    payload = content() if chunked else body
    with control(stack) as api:
        response = api.post(f"/orgs/{slug}/assistants", content=payload, headers=headers)

        assert response.status_code == 413, response.text
        assert response.json()["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        # Postgres jsonb cannot hold a NUL, in a value or a key.
        (b'{"metadata": {"k": "a\\u0000b"}}', 400, "NUL"),
        (b'{"metadata": {"a\\u0000b": 1}}', 400, "NUL"),
        # JavaScript clients cannot hold these integers exactly; past 64 bits the encoders disagree.
        (b'{"metadata": {"k": 9007199254740993}}', 422, "Integers"),
        (b'{"metadata": {"k": -9223372036854775808}}', 422, "Integers"),
        # Not JSON: a lone surrogate, NaN, Infinity, a number beyond a double.
        (b'{"metadata": {"k": "\\ud800"}}', 400, "Invalid JSON"),
        (b'{"metadata": {"k": NaN}}', 400, "Invalid JSON"),
        (b'{"metadata": {"k": Infinity}}', 400, "Invalid JSON"),
        (b'{"metadata": {"k": 1e400}}', 400, "Invalid JSON"),
    ],
)
def test_values_that_cannot_be_served_back_are_refused(
    stack: LiveStack, raw: bytes, status: int, says: str
) -> None:
    with agent(stack) as api:
        before = api.post("/threads/count", json={}).json()
        response = api.post("/threads", content=raw, headers={"content-type": "application/json"})

        assert response.status_code == status, response.text
        assert says in response.json()["detail"]
        assert api.post("/threads/count", json={}).json() == before
    slug = stack.org_slug()
    with control(stack) as api:
        body = raw.replace(b'"metadata"', b'"graph_id": "simple", "metadata"')
        response = api.post(
            f"/orgs/{slug}/assistants", content=body, headers={"content-type": "application/json"}
        )

        assert response.status_code == status, response.text
        assert says in response.json()["detail"]


def test_the_largest_safe_integer_round_trips(stack: LiveStack) -> None:
    with agent(stack) as api:
        response = api.post("/threads", json={"metadata": {"big": 2**53 - 1, "small": -(2**53 - 1)}})

        assert response.status_code == 200, response.text
        fetched = api.get(f"/threads/{response.json()['thread_id']}").json()
        assert fetched["metadata"]["big"] == 2**53 - 1
        assert fetched["metadata"]["small"] == -(2**53 - 1)
