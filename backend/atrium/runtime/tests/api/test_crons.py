"""The cron API (§1.6): wire shape, validation codes and the authorisation matrix of every endpoint."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from conftest import Member
from django.test import Client

from atrium.accounts.services import user_create
from atrium.core.tenancy import Role
from atrium.orgs.services import membership_ensure
from atrium.runtime.models import Cron
from atrium.runtime.tests.agent_api import agent_loop, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

ACME = {"HTTP_X_ATRIUM_ORG": "acme"}
CRON_FIELDS = {
    "cron_id",
    "assistant_id",
    "thread_id",
    "user_id",
    "schedule",
    "timezone",
    "end_time",
    "enabled",
    "on_run_completed",
    "payload",
    "metadata",
    "next_run_date",
    "created_at",
    "updated_at",
}
WRITES = [("anonymous", 401), ("other_org", 404), ("viewer", 403), ("editor", 200), ("admin", 200)]


def as_member(client_for, who: str) -> tuple[Client, dict[str, str]]:
    """A client, and the headers naming `acme` (how a member of another org would try)."""
    return client_for(who), (ACME if who == "other_org" else {})


def create(
    client: Client, body: dict[str, Any] | None = None, thread_id: str | None = None, **headers: Any
) -> Any:
    path = f"/threads/{thread_id}/runs/crons" if thread_id else "/runs/crons"
    return send(
        client, "POST", path, {"assistant_id": "echo", "schedule": "*/5 * * * *", **(body or {})}, **headers
    )


def new_thread(client: Client) -> str:
    response = send(client, "POST", "/threads", {})
    assert response.status_code == 200, response.content
    return str(response.json()["thread_id"])


@pytest.fixture
def cron(client_for) -> dict[str, Any]:
    """A cron made by the editor."""
    response = create(client_for("editor"), {"metadata": {"team": "a"}})
    assert response.status_code == 200, response.content
    return dict(response.json())


@pytest.fixture
def editor2(org) -> Member:
    user = user_create(email="editor2@acme.test", password="a-long-test-password")
    membership_ensure(org=org, user=user, role=Role.BUILDER)
    return Member(user=user, org=org, role=Role.BUILDER)


# --- wire shape and validation -------------------------------------------------------------------


def test_a_cron_has_the_wire_shape(client_for, editor):
    response = create(
        client_for("editor"),
        {
            "input": {"messages": []},
            "metadata": {"k": "v"},
            "timezone": "Europe/Paris",
            "end_time": "2030-01-01T00:00:00Z",
            "on_run_completed": "keep",
            "stream_mode": ["values", "updates"],
            "checkpoint_during": False,
            "multitask_strategy": "reject",
            "unknown_field": "ignored",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == CRON_FIELDS
    uuid.UUID(body["cron_id"])
    uuid.UUID(body["assistant_id"])
    assert body["thread_id"] is None
    assert body["user_id"] == str(editor.user.id)
    assert body["schedule"] == "*/5 * * * *"
    assert body["timezone"] == "Europe/Paris"
    assert body["end_time"] == "2030-01-01T00:00:00+00:00"
    assert body["enabled"] is True
    assert body["on_run_completed"] == "keep"
    assert body["metadata"] == {"k": "v"}
    assert body["payload"] == {
        "assistant_id": body["assistant_id"],
        "input": {"messages": []},
        "stream_mode": ["values", "updates"],
        "durability": "exit",
        "multitask_strategy": "reject",
    }
    assert body["next_run_date"] is not None


def test_a_threads_cron_names_its_thread(client_for):
    client = client_for("editor")
    tid = new_thread(client)
    body = create(client, thread_id=tid).json()
    assert body["thread_id"] == tid
    assert body["on_run_completed"] is None
    assert create(client, thread_id=str(uuid.uuid4())).status_code == 404
    assert create(client, thread_id="not-a-uuid").status_code == 422


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"schedule": "not a schedule"}, "Invalid cron schedule"),
        ({"schedule": "0 0 * * * *"}, "Invalid cron schedule"),
        ({"timezone": "Mars/Olympus_Mons"}, "Invalid timezone"),
        ({"assistant_id": "no-such-graph"}, "Invalid assistant"),
        ({"schedule": None}, "schedule"),
    ],
)
def test_invalid_crons_are_422_with_a_message(client_for, body, message):
    response = create(client_for("editor"), body)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert Cron.unscoped.count() == 0


def test_an_unknown_assistant_uuid_is_404(client_for):
    assert create(client_for("editor"), {"assistant_id": str(uuid.uuid4())}).status_code == 404


def test_patch_updates_and_an_explicit_null_end_time_clears_it(client_for, cron):
    client = client_for("editor")
    path = f"/runs/crons/{cron['cron_id']}"
    set_end = send(client, "PATCH", path, {"end_time": "2031-05-01T12:00:00+02:00", "enabled": False})
    assert set_end.status_code == 200
    assert set_end.json()["end_time"] == "2031-05-01T10:00:00+00:00"
    assert set_end.json()["enabled"] is False
    kept = send(client, "PATCH", path, {"metadata": {"more": 1}})
    assert kept.json()["end_time"] == "2031-05-01T10:00:00+00:00"
    assert kept.json()["metadata"] == {"team": "a", "more": 1}
    cleared = send(client, "PATCH", path, {"end_time": None})
    assert cleared.json()["end_time"] is None


def test_patch_recomputes_the_next_run_in_the_new_timezone(client_for, cron):
    response = send(
        client_for("editor"),
        "PATCH",
        f"/runs/crons/{cron['cron_id']}",
        {"schedule": "0 9 * * *", "timezone": "America/New_York"},
    )
    body = response.json()
    assert body["schedule"] == "0 9 * * *"
    assert body["timezone"] == "America/New_York"
    assert body["next_run_date"].endswith(("T13:00:00+00:00", "T14:00:00+00:00"))


def test_patch_with_nothing_to_change_is_400(client_for, cron):
    client = client_for("editor")
    for body in ({}, {"unknown": 1}):
        response = send(client, "PATCH", f"/runs/crons/{cron['cron_id']}", body)
        assert response.status_code == 400
        assert response.json() == {"detail": "Nothing to update: send at least one field."}


def test_patch_validates_schedule_and_timezone(client_for, cron):
    client = client_for("editor")
    path = f"/runs/crons/{cron['cron_id']}"
    assert send(client, "PATCH", path, {"schedule": "every day"}).status_code == 422
    assert send(client, "PATCH", path, {"timezone": "Nowhere/Land"}).status_code == 422
    assert Cron.unscoped.get(id=cron["cron_id"]).schedule == "*/5 * * * *"


def test_malformed_and_unknown_cron_ids(client_for):
    client = client_for("editor")
    assert client.get("/agent/runs/crons/not-a-uuid").status_code == 422
    missing = client.get(f"/agent/runs/crons/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert "not found" in missing.json()["detail"]


def test_search_pages_sorts_and_filters(client_for):
    client = client_for("editor")
    tid = new_thread(client)
    made = [create(client, {"metadata": {"n": i}}).json()["cron_id"] for i in range(3)]
    on_thread = create(client, thread_id=tid).json()["cron_id"]
    first = send(
        client, "POST", "/runs/crons/search", {"limit": 2, "sort_by": "created_at", "sort_order": "asc"}
    )
    assert [c["cron_id"] for c in first.json()] == made[:2]
    assert first["X-Pagination-Total"] == "4"
    assert first["X-Pagination-Next"] == "2"
    last = send(client, "POST", "/runs/crons/search", {"limit": 2, "offset": 2, "sort_order": "asc"})
    assert [c["cron_id"] for c in last.json()] == [made[2], on_thread]
    assert "X-Pagination-Next" not in last
    by_thread = send(client, "POST", "/runs/crons/search", {"thread_id": tid})
    assert [c["cron_id"] for c in by_thread.json()] == [on_thread]
    by_metadata = send(client, "POST", "/runs/crons/search", {"metadata": {"n": 1}, "select": ["cron_id"]})
    assert by_metadata.json() == [{"cron_id": made[1]}]
    by_graph = send(client, "POST", "/runs/crons/search", {"assistant_id": "echo"})
    assert len(by_graph.json()) == 4
    send(client, "PATCH", f"/runs/crons/{made[0]}", {"enabled": False})
    disabled = send(client, "POST", "/runs/crons/search", {"enabled": False})
    assert [c["cron_id"] for c in disabled.json()] == [made[0]]
    assert send(client, "POST", "/runs/crons/count", {"thread_id": tid}).json() == 1
    assert send(client, "POST", "/runs/crons/count", {"metadata": {"n": 2}}).json() == 1


def test_deleting_the_thread_deletes_its_crons(client_for):
    client = client_for("editor")
    tid = new_thread(client)
    create(client, thread_id=tid)
    assert send(client, "DELETE", f"/threads/{tid}").status_code == 204
    assert Cron.unscoped.count() == 0


# --- authorisation matrix ------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), WRITES)
def test_create_matrix(client_for, who, status):
    client, headers = as_member(client_for, who)
    response = create(client, **headers)
    assert response.status_code == status
    assert Cron.unscoped.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize(("who", "status"), WRITES)
def test_create_for_thread_matrix(client_for, who, status):
    tid = new_thread(client_for("editor"))
    client, headers = as_member(client_for, who)
    response = create(client, thread_id=tid, **headers)
    assert response.status_code == status
    assert Cron.unscoped.filter(thread_id=tid).count() == (1 if status == 200 else 0)


def test_another_editor_cannot_schedule_on_my_thread(client_for, editor2):
    tid = new_thread(client_for("editor"))
    other = Client()
    other.force_login(editor2.user)
    assert create(other, thread_id=tid).status_code == 404
    assert Cron.unscoped.count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("other_org", 404), ("viewer", 404), ("editor", 200), ("admin", 200)],
)
def test_get_matrix(client_for, cron, who, status):
    client, headers = as_member(client_for, who)
    response = client.get(f"/agent/runs/crons/{cron['cron_id']}", **headers)
    assert response.status_code == status
    if status == 200:
        assert response.json() == cron


@pytest.mark.parametrize(("who", "status"), WRITES)
def test_patch_matrix(client_for, cron, who, status):
    client, headers = as_member(client_for, who)
    response = send(client, "PATCH", f"/runs/crons/{cron['cron_id']}", {"enabled": False}, **headers)
    assert response.status_code == status
    assert Cron.unscoped.get(id=cron["cron_id"]).enabled is (status != 200)


@pytest.mark.parametrize(("who", "status"), [(w, 204 if s == 200 else s) for w, s in WRITES])
def test_delete_matrix(client_for, cron, who, status):
    client, headers = as_member(client_for, who)
    response = send(client, "DELETE", f"/runs/crons/{cron['cron_id']}", **headers)
    assert response.status_code == status
    assert Cron.unscoped.filter(id=cron["cron_id"]).exists() is (status != 204)
    if status == 204:
        assert response.content == b""


def test_another_editors_cron_is_not_found_for_every_operation(client_for, cron, editor2):
    other = Client()
    other.force_login(editor2.user)
    path = f"/runs/crons/{cron['cron_id']}"
    assert other.get(f"/agent{path}").status_code == 404
    assert send(other, "PATCH", path, {"enabled": False}).status_code == 404
    assert send(other, "DELETE", path).status_code == 404
    assert send(other, "POST", "/runs/crons/search", {}).json() == []
    assert send(other, "POST", "/runs/crons/count", {}).json() == 0
    assert Cron.unscoped.get(id=cron["cron_id"]).enabled is True


@pytest.mark.parametrize(
    ("who", "status", "visible"),
    [
        ("anonymous", 401, None),
        ("other_org", 404, None),
        ("viewer", 200, 0),
        ("editor", 200, 1),
        ("admin", 200, 1),
    ],
)
def test_search_and_count_matrix(client_for, cron, who, status, visible):
    client, headers = as_member(client_for, who)
    found = send(client, "POST", "/runs/crons/search", {}, **headers)
    counted = send(client, "POST", "/runs/crons/count", {}, **headers)
    assert found.status_code == status
    assert counted.status_code == status
    if status == 200:
        assert [c["cron_id"] for c in found.json()] == [cron["cron_id"]][:visible]
        assert found["X-Pagination-Total"] == str(visible)
        assert counted.json() == visible


def test_another_org_sees_none_of_ours_in_its_own_org(client_for, cron):
    outsider = client_for("other_org")
    assert outsider.get(f"/agent/runs/crons/{cron['cron_id']}").status_code == 404
    assert send(outsider, "POST", "/runs/crons/search", {}).json() == []
    assert send(outsider, "POST", "/runs/crons/count", {}).json() == 0
    assert send(outsider, "DELETE", f"/runs/crons/{cron['cron_id']}").status_code == 404
    assert Cron.unscoped.filter(id=cron["cron_id"]).exists()


def test_api_keys_manage_their_users_crons(api_key_for, editor, cron):
    client = Client(HTTP_X_API_KEY=api_key_for(editor))
    assert client.get(f"/agent/runs/crons/{cron['cron_id']}").status_code == 200
    assert create(client).status_code == 200
    assert send(client, "POST", "/runs/crons/count", {}).json() == 2
