"""The store API (§1.7): wire codes, the authorisation matrix, and the namespace rules end to end."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from conftest import Member
from django.test import Client

from atrium.accounts.services import user_create
from atrium.core.tenancy import Role
from atrium.orgs.services import membership_ensure
from atrium.runtime.db import conninfo
from atrium.runtime.tests.agent_api import agent_loop, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(agent_loop.__name__)]

SHARED = ["team", "notes"]
OTHER_ORG_HEADER = {"HTTP_X_ATRIUM_ORG": "acme"}


def put(
    client: Client,
    namespace: list[str],
    key: str,
    value: Any,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> Any:
    payload = {"namespace": namespace, "key": key, "value": value, **body}
    return send(client, "PUT", "/store/items", payload, **(headers or {}))


def get(client: Client, namespace: list[str], key: str, **headers: Any) -> Any:
    return client.get("/agent/store/items", {"namespace": ".".join(namespace), "key": key}, **headers)


def delete(client: Client, namespace: list[str], key: str, **headers: Any) -> Any:
    return send(client, "DELETE", "/store/items", {"namespace": namespace, "key": key}, **headers)


def search(client: Client, prefix: list[str], **body: Any) -> Any:
    return send(client, "POST", "/store/items/search", {"namespace_prefix": prefix, **body})


def namespaces(client: Client, **body: Any) -> Any:
    return send(client, "POST", "/store/namespaces", body)


def keys(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["key"] for item in response.json()["items"]]


def value_of(client: Client, namespace: list[str], key: str) -> Any:
    response = get(client, namespace, key)
    assert response.status_code == 200, response.content
    body = response.json()
    return None if body is None else body["value"]


@pytest.fixture
def editor2(org) -> Member:
    user = user_create(email="editor2@acme.test", password="a-long-test-password")
    membership_ensure(org=org, user=user, role=Role.BUILDER)
    return Member(user=user, org=org, role=Role.BUILDER)


def login(member: Member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def user_ns(member: Member) -> list[str]:
    return ["org", str(member.org.id), "user", str(member.user.id), "memories"]


def org_ns(member: Member) -> list[str]:
    return ["org", str(member.org.id), "memories"]


# --- wire shape ----------------------------------------------------------------------------------


def test_an_item_round_trips_and_a_missing_key_is_200_null(client_for):
    # Given an editor
    client = client_for("editor")
    # When they put an item and read it back
    response = put(client, SHARED, "k1", {"x": 1})
    assert response.status_code == 204
    assert response.content == b""
    item = get(client, SHARED, "k1").json()
    # Then it has the item's wire fields
    assert item["namespace"] == SHARED
    assert item["key"] == "k1"
    assert item["value"] == {"x": 1}
    assert set(item) == {"namespace", "key", "value", "created_at", "updated_at"}
    # And after a delete (204) the same read is 200 with a JSON null
    response = delete(client, SHARED, "k1")
    assert response.status_code == 204
    assert response.content == b""
    missing = get(client, SHARED, "k1")
    assert missing.status_code == 200
    assert missing.content == b"null"


def test_put_replaces_the_value(client_for):
    client = client_for("editor")
    put(client, SHARED, "k", {"v": 1})
    put(client, SHARED, "k", {"v": 2})
    assert value_of(client, SHARED, "k") == {"v": 2}


def test_get_without_key_is_400_and_a_bad_namespace_is_422(client_for):
    client = client_for("editor")
    no_key = client.get("/agent/store/items", {"namespace": "team.notes"})
    assert no_key.status_code == 400
    assert no_key.json() == {"detail": "Missing required query parameter: key."}
    assert client.get("/agent/store/items", {"namespace": "team..notes", "key": "k"}).status_code == 422
    assert client.get("/agent/store/items", {"key": "k"}).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"namespace": ["a.b"], "key": "k", "value": {}},
        {"namespace": ["a", ""], "key": "k", "value": {}},
        {"namespace": [], "key": "k", "value": {}},
        {"namespace": ["langgraph"], "key": "k", "value": {}},
        {"namespace": ["a"], "key": "", "value": {}},
        {"namespace": ["a"], "key": "k", "value": [1]},
        {"namespace": ["a"], "key": "k", "value": {}, "ttl": 0},
        {"namespace": ["a"], "key": "k", "value": {}, "index": True},
    ],
)
def test_invalid_puts_are_422_and_store_nothing(client_for, body):
    client = client_for("editor")
    response = send(client, "PUT", "/store/items", body)
    assert response.status_code == 422, response.content
    assert "detail" in response.json()
    assert namespaces(client).json() == {"namespaces": []}


def test_delete_and_search_validate_namespaces_too(client_for):
    client = client_for("editor")
    assert delete(client, ["a.b"], "k").status_code == 422
    assert search(client, ["a", ""]).status_code == 422
    assert namespaces(client, prefix=["a.b"]).status_code == 422


def test_ttl_and_index_are_accepted_and_the_ttl_is_stored(client_for, org, editor):
    client = client_for("editor")
    assert put(client, SHARED, "t", {"v": 1}, ttl=5, index=["v"]).status_code == 204
    assert put(client, SHARED, "n", {"v": 1}, ttl=None, index=False).status_code == 204
    with psycopg.connect(conninfo()) as conn:
        rows = dict(
            conn.execute(
                "SELECT key, ttl_minutes FROM store WHERE prefix = %s",
                (f"org:{org.id}.user:{editor.user.id}.team.notes",),
            ).fetchall()
        )
    assert rows == {"t": 5.0, "n": None}
    refreshed = client.get(
        "/agent/store/items", {"namespace": "team.notes", "key": "t", "refresh_ttl": "true"}
    )
    assert refreshed.json()["value"] == {"v": 1}


def test_search_filters_pages_and_scores(client_for):
    client = client_for("editor")
    for i in range(5):
        put(client, [*SHARED, f"n{i}"], f"k{i}", {"i": i, "even": i % 2 == 0})
    found = search(client, ["team"], filter={"even": True})
    assert sorted(keys(found)) == ["k0", "k2", "k4"]
    assert all(item["score"] is None for item in found.json()["items"])
    first, rest = search(client, ["team"], limit=3), search(client, ["team"], limit=3, offset=3)
    assert len(keys(first)) == 3
    assert len(keys(rest)) == 2
    assert set(keys(first)) | set(keys(rest)) == {f"k{i}" for i in range(5)}
    assert search(client, ["team"], limit=0).status_code == 422


def test_list_namespaces_with_prefix_suffix_and_depth(client_for):
    client = client_for("editor")
    for i in range(3):
        put(client, ["team", "notes", f"n{i}"], "k", {"v": i})
    put(client, ["misc"], "k", {"v": 0})
    assert namespaces(client, prefix=["team"]).json() == {
        "namespaces": [["team", "notes", "n0"], ["team", "notes", "n1"], ["team", "notes", "n2"]]
    }
    assert namespaces(client, prefix=["team"], max_depth=2).json() == {"namespaces": [["team", "notes"]]}
    assert namespaces(client, suffix=["n1"]).json() == {"namespaces": [["team", "notes", "n1"]]}
    assert namespaces(client, limit=2, offset=2).json() == {
        "namespaces": [["team", "notes", "n1"], ["team", "notes", "n2"]]
    }


# --- authorisation matrix (a private namespace: the caller's own, ADR 0018) -------------------------

WRITERS = [("anonymous", 401), ("other_org", 404), ("viewer", 403), ("editor", 204), ("admin", 204)]
READERS = [("anonymous", 401), ("other_org", 404), ("viewer", 200), ("editor", 200), ("admin", 200)]


def as_member(client_for, who: str) -> tuple[Client, dict[str, str]]:
    """A client, and the headers that name the org `acme` (how another org's member would try)."""
    return client_for(who), (OTHER_ORG_HEADER if who == "other_org" else {})


@pytest.mark.parametrize(("who", "status"), WRITERS)
def test_put_matrix(client_for, who, status):
    client, headers = as_member(client_for, who)
    response = put(client, SHARED, "k", {"by": who}, headers)
    assert response.status_code == status
    # The item is the writer's own: the admin sees only an item the admin wrote.
    assert value_of(client_for("admin"), SHARED, "k") == ({"by": who} if who == "admin" else None)
    assert value_of(client_for("editor"), SHARED, "k") == ({"by": who} if who == "editor" else None)


@pytest.mark.parametrize(("who", "status"), READERS)
def test_get_matrix(client_for, who, status):
    put(client_for("editor"), SHARED, "k", {"v": 1})
    client, headers = as_member(client_for, who)
    response = get(client, SHARED, "k", **headers)
    assert response.status_code == status
    if status == 200:
        # 200 null for everyone but the editor: their own namespace of that name is empty.
        body = response.json()
        assert (body["value"] if body is not None else None) == ({"v": 1} if who == "editor" else None)


@pytest.mark.parametrize(("who", "status"), WRITERS)
def test_delete_matrix(client_for, who, status):
    put(client_for("editor"), SHARED, "k", {"v": 1})
    client, headers = as_member(client_for, who)
    response = delete(client, SHARED, "k", **headers)
    assert response.status_code == status
    assert value_of(client_for("editor"), SHARED, "k") == (None if who == "editor" else {"v": 1})


@pytest.mark.parametrize(("who", "status"), READERS)
def test_search_matrix(client_for, who, status):
    put(client_for("editor"), SHARED, "k", {"v": 1})
    client, headers = as_member(client_for, who)
    response = send(client, "POST", "/store/items/search", {"namespace_prefix": ["team"]}, **headers)
    assert response.status_code == status
    if status == 200:
        assert keys(response) == (["k"] if who == "editor" else [])


@pytest.mark.parametrize(("who", "status"), READERS)
def test_list_namespaces_matrix(client_for, who, status):
    put(client_for("editor"), SHARED, "k", {"v": 1})
    client, headers = as_member(client_for, who)
    response = send(client, "POST", "/store/namespaces", {}, **headers)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"namespaces": [SHARED] if who == "editor" else []}


def test_api_keys_act_in_their_own_org(client_for, api_key_for, editor, outsider):
    key_client = Client(HTTP_X_API_KEY=api_key_for(editor))
    assert put(key_client, SHARED, "k", {"via": "key"}).status_code == 204
    # The key acts as its user: the item is the editor's own.
    assert value_of(client_for("editor"), SHARED, "k") == {"via": "key"}
    assert value_of(client_for("viewer"), SHARED, "k") is None
    other_key = Client(HTTP_X_API_KEY=api_key_for(outsider))
    assert get(other_key, SHARED, "k").json() is None
    assert Client(HTTP_X_API_KEY="not-a-key").get("/agent/store/items", {"key": "k"}).status_code == 401


# --- another org's items -------------------------------------------------------------------------


def test_another_orgs_items_are_invisible(client_for, org):
    # Given an item in acme's store and the same namespace and key written in globex
    put(client_for("editor"), SHARED, "secret", {"org": "acme"})
    outsider = client_for("other_org")
    # Then globex reads none of acme's item, in any way
    assert get(outsider, SHARED, "secret").json() is None
    assert keys(search(outsider, [])) == []
    assert namespaces(outsider).json() == {"namespaces": []}
    # And writing the same namespace and key in globex leaves acme's item alone
    assert put(outsider, SHARED, "secret", {"org": "globex"}).status_code == 204
    assert value_of(outsider, SHARED, "secret") == {"org": "globex"}
    assert value_of(client_for("editor"), SHARED, "secret") == {"org": "acme"}


def test_a_namespace_naming_another_org_is_not_found(client_for, org, other_org):
    admin = client_for("admin")
    foreign = ["org", str(other_org.id), "memories"]
    assert put(admin, foreign, "k", {"v": 1}).status_code == 404
    assert get(admin, foreign, "k").status_code == 404
    assert delete(admin, foreign, "k").status_code == 404
    assert keys(search(admin, ["org", str(other_org.id)])) == []
    # The outsider's own org memory, written by them, is still not visible from acme
    outsider = client_for("other_org")
    assert put(outsider, ["org", str(other_org.id), "memories"], "k", {"v": 1}).status_code == 204
    assert get(admin, foreign, "k").status_code == 404
    assert namespaces(admin).json() == {"namespaces": []}


# --- a user's private memory ---------------------------------------------------------------------


def test_a_users_memory_is_private_to_them(client_for, editor, editor2, viewer, admin):
    # Given the editor's private memory
    mine = user_ns(editor)
    me = client_for("editor")
    assert put(me, mine, "AGENTS.md", {"content": "mine"}).status_code == 204
    assert value_of(me, mine, "AGENTS.md") == {"content": "mine"}
    other = login(editor2)
    # Then another editor gets 404 on reads and deletes, 403 on writes, and never sees it listed
    assert get(other, mine, "AGENTS.md").status_code == 404
    assert delete(other, mine, "AGENTS.md").status_code == 404
    assert put(other, mine, "AGENTS.md", {"content": "theirs"}).status_code == 403
    assert keys(search(other, ["org", str(editor.org.id)])) == []
    assert keys(search(other, mine)) == []
    assert namespaces(other).json() == {"namespaces": []}
    assert get(client_for("viewer"), mine, "AGENTS.md").status_code == 404
    # And the item is unchanged
    assert value_of(me, mine, "AGENTS.md") == {"content": "mine"}


def test_admins_read_a_users_memory_but_cannot_change_it(client_for, editor):
    mine = user_ns(editor)
    put(client_for("editor"), mine, "k", {"v": 1})
    admin = client_for("admin")
    assert value_of(admin, mine, "k") == {"v": 1}
    assert keys(search(admin, ["org", str(editor.org.id)])) == ["k"]
    assert namespaces(admin).json() == {"namespaces": [mine]}
    assert put(admin, mine, "k", {"v": 2}).status_code == 403
    assert delete(admin, mine, "k").status_code == 403
    assert value_of(client_for("editor"), mine, "k") == {"v": 1}


def test_a_viewer_reads_their_own_memory_but_cannot_write_it(client_for, viewer):
    mine = user_ns(viewer)
    client = client_for("viewer")
    assert get(client, mine, "k").json() is None
    assert put(client, mine, "k", {"v": 1}).status_code == 403


def test_search_and_listing_skip_hidden_items_without_gaps(client_for, editor, editor2):
    # Given more of another user's items than of mine, interleaved in namespace order
    org_prefix = ["org", str(editor.org.id)]
    other = login(editor2)
    for i in range(4):
        put(other, user_ns(editor2), f"theirs{i}", {"i": i})
    me = client_for("editor")
    for i in range(3):
        put(me, user_ns(editor), f"mine{i}", {"i": i})
    put(client_for("admin"), org_ns(editor), "org-rule", {"v": 1})
    # When I page through the org's namespace one item at a time
    pages = [keys(search(me, org_prefix, limit=1, offset=i)) for i in range(5)]
    # Then I see exactly my items and the org's, each once, and nothing of theirs
    seen = [key for page in pages for key in page]
    assert sorted(seen) == ["mine0", "mine1", "mine2", "org-rule"]
    assert pages[4] == []
    assert namespaces(me, prefix=org_prefix).json() == {"namespaces": [org_ns(editor), user_ns(editor)]}
    # And truncating to the user level reveals no other user id
    assert namespaces(me, prefix=org_prefix, max_depth=4).json() == {
        "namespaces": [org_ns(editor), user_ns(editor)[:4]]
    }


# --- org and assistant memory --------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("editor", 403), ("admin", 204)])
def test_org_memory_is_written_by_admins_only(client_for, org, admin, who, status):
    namespace = org_ns(admin)
    client = client_for(who)
    assert put(client, namespace, "AGENTS.md", {"content": who}).status_code == status
    expected = {"content": who} if status == 204 else None
    assert value_of(client_for("viewer"), namespace, "AGENTS.md") == expected


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("editor", 403), ("admin", 204)])
def test_org_memory_is_deleted_by_admins_only(client_for, admin, who, status):
    namespace = org_ns(admin)
    put(client_for("admin"), namespace, "k", {"v": 1})
    assert delete(client_for(who), namespace, "k").status_code == status
    assert value_of(client_for("viewer"), namespace, "k") == (None if status == 204 else {"v": 1})


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("editor", 204), ("admin", 204)])
def test_assistant_memory_is_read_by_viewers_and_written_by_editors(client_for, admin, who, status):
    namespace = ["org", str(admin.org.id), "assistant", "a1", "memories"]
    assert put(client_for(who), namespace, "k", {"by": who}).status_code == status
    assert value_of(client_for("viewer"), namespace, "k") == ({"by": who} if status == 204 else None)
