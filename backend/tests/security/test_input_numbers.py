"""Every number and checkpoint reference the APIs take is bounded and typed: out of range is a 422
naming the field, never a 500, and nothing is stored.

Finding 2: `history` with a numeric `before` answered 500; a run with `after_seconds=10**15` answered
500 (a datetime overflow after validation)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.live_stack import LiveStack


@pytest.fixture
def api(stack: LiveStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as client:
        yield client


@pytest.fixture
def thread_id(api: httpx.Client) -> str:
    """A thread with one finished run, so it has checkpoints and a history."""
    thread = api.post("/threads", json={}).json()
    response = api.post(
        f"/threads/{thread['thread_id']}/runs/wait", json={"assistant_id": "simple", "input": {"steps": []}}
    )
    assert response.status_code == 200, response.text
    return str(thread["thread_id"])


@pytest.mark.parametrize(
    "before",
    [
        5,
        1.5,
        True,
        ["x"],
        {"checkpoint_id": 5},
        {"configurable": {"checkpoint_id": [1]}},
        {"checkpoint_ns": {}},
    ],
)
def test_history_before_of_the_wrong_type_is_422(api: httpx.Client, thread_id: str, before: Any) -> None:
    response = api.post(f"/threads/{thread_id}/history", json={"before": before})

    assert response.status_code == 422, response.text
    assert "before" in response.json()["detail"]


def test_history_before_in_every_documented_form_still_works(api: httpx.Client, thread_id: str) -> None:
    history = api.post(f"/threads/{thread_id}/history", json={"limit": 10}).json()
    newest = history[0]["checkpoint"]

    for before in (
        newest["checkpoint_id"],
        {"checkpoint_id": newest["checkpoint_id"]},
        {"configurable": {"checkpoint_id": newest["checkpoint_id"], "checkpoint_ns": ""}},
    ):
        response = api.post(f"/threads/{thread_id}/history", json={"before": before, "limit": 10})
        assert response.status_code == 200, response.text
        assert [s["checkpoint"]["checkpoint_id"] for s in response.json()] == [
            s["checkpoint"]["checkpoint_id"] for s in history[1:]
        ]
    assert api.get(f"/threads/{thread_id}/history", params={"before": "5"}).status_code == 200


@pytest.mark.parametrize("checkpoint", [{"checkpoint_id": 7}, {"configurable": {"checkpoint_id": {}}}])
def test_checkpoint_references_of_the_wrong_type_are_422(
    api: httpx.Client, thread_id: str, checkpoint: dict[str, Any]
) -> None:
    state = api.post(f"/threads/{thread_id}/state/checkpoint", json={"checkpoint": checkpoint})
    run = api.post(
        f"/threads/{thread_id}/runs",
        json={"assistant_id": "simple", "input": {"steps": []}, "checkpoint": checkpoint},
    )

    assert state.status_code == 422, state.text
    assert run.status_code == 422, run.text
    assert len(api.get(f"/threads/{thread_id}/runs").json()) == 1  # only the fixture's run


@pytest.mark.parametrize("after_seconds", [10**15, 1e300, 366 * 24 * 3600 + 1, -1])
def test_after_seconds_out_of_range_is_422_and_queues_nothing(
    api: httpx.Client, after_seconds: float
) -> None:
    thread = api.post("/threads", json={}).json()
    response = api.post(
        f"/threads/{thread['thread_id']}/runs",
        json={"assistant_id": "simple", "input": {"steps": []}, "after_seconds": after_seconds},
    )

    assert response.status_code == 422, response.text
    assert "after_seconds" in response.json()["detail"]
    assert api.get(f"/threads/{thread['thread_id']}/runs").json() == []
    assert api.get(f"/threads/{thread['thread_id']}").json()["status"] == "idle"


@pytest.mark.parametrize(
    ("method", "path", "body", "params", "field"),
    [
        ("POST", "/threads/search", {"offset": 2**52}, None, "offset"),
        ("POST", "/threads/search", {"offset": 2**31}, None, "offset"),
        ("POST", "/assistants/search", {"offset": 2**40}, None, "offset"),
        ("POST", "/runs/crons/search", {"offset": 2**40}, None, "offset"),
        ("POST", "/store/items/search", {"namespace_prefix": [], "offset": 2**40}, None, "offset"),
        ("POST", "/store/namespaces", {"max_depth": 2**40}, None, "max_depth"),
        ("GET", "/threads/{thread}/runs", None, {"offset": str(2**63)}, "offset"),
        ("GET", "/threads/{thread}/runs", None, {"limit": str(2**63)}, "limit"),
    ],
)
def test_offsets_limits_and_depths_are_bounded(
    api: httpx.Client, thread_id: str, method: str, path: str, body: Any, params: Any, field: str
) -> None:
    response = api.request(method, path.format(thread=thread_id), json=body, params=params)

    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]


def test_audit_offset_is_bounded_on_the_control_plane(stack: LiveStack) -> None:
    with httpx.Client(base_url=f"{stack.base_url}/api/v1", headers=stack.headers("admin"), timeout=30) as api:
        slug = stack.org_slug()
        response = api.get(f"/orgs/{slug}/audit-events", params={"offset": str(2**63)})

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("field", ["since", "depth"])
@pytest.mark.parametrize("value", [-1, True, "3"])
def test_v2_stream_filter_numbers_are_checked(
    api: httpx.Client, thread_id: str, field: str, value: Any
) -> None:
    response = api.post(f"/threads/{thread_id}/stream/events", json={"channels": ["values"], field: value})

    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


def test_an_idempotency_key_longer_than_stored_is_refused(api: httpx.Client) -> None:
    thread = api.post("/threads", json={}).json()
    response = api.post(
        f"/threads/{thread['thread_id']}/runs",
        json={"assistant_id": "simple", "input": {"steps": []}},
        headers={"Idempotency-Key": uuid.uuid4().hex * 10},
    )

    assert response.status_code == 422, response.text
    assert "Idempotency-Key" in response.json()["detail"]
    assert api.get(f"/threads/{thread['thread_id']}/runs").json() == []


@pytest.mark.parametrize("last_event_id", ["abc", "1-2-3", "99999999999999999999999-0", "1-"])
def test_a_last_event_id_no_stream_sent_is_422_before_the_stream_starts(
    api: httpx.Client, thread_id: str, last_event_id: str
) -> None:
    run_id = api.get(f"/threads/{thread_id}/runs").json()[0]["run_id"]

    for path in (f"/threads/{thread_id}/runs/{run_id}/stream", f"/runs/{run_id}/stream"):
        response = api.get(path, headers={"Last-Event-ID": last_event_id})
        assert response.status_code == 422, response.text
        assert "Last-Event-ID" in response.json()["detail"]
