"""Issue 18, store privacy (ADR 0018): a store item outside `("org", ...)` belongs to the user who wrote
it. Another member of the org cannot read, overwrite, search, list or delete it through the Agent API,
nor reach it from a graph they run by naming its namespace (`("memories", <alice's id>)`).

Alice is `enduser`, Bob `enduser2`: two end users of org `a` on the live stack.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import PermissionDeniedError
from psycopg.types.json import Json

from atrium.runtime.tests.conformance.agent_support import Identity, identities_of
from atrium.runtime.tests.live_stack import LiveStack

MIGRATION = "atrium.runtime.migrations.0010_store_legacy_items_org_shared"


@pytest.fixture
def identities(live_stack: LiveStack, django_db_blocker: Any) -> dict[str, Identity]:
    return identities_of(live_stack, django_db_blocker)


def notes() -> list[str]:
    return ["notes", uuid.uuid4().hex[:12]]


async def keys_found(client: LangGraphClient, prefix: list[str], **kwargs: Any) -> list[tuple[Any, str]]:
    found = await client.store.search_items(prefix, limit=1000, **kwargs)
    return [(tuple(item["namespace"]), item["key"]) for item in found["items"]]


async def all_namespaces(client: LangGraphClient, prefix: list[str] | None = None) -> list[tuple[str, ...]]:
    found = await client.store.list_namespaces(prefix=prefix, limit=1000)
    return [tuple(namespace) for namespace in found["namespaces"]]


async def test_bob_cannot_read_search_list_overwrite_or_delete_alices_notes(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    # Given Alice's note
    alice, bob = stack.client("enduser"), stack.client("enduser2")
    ns = notes()
    await alice.store.put_item(ns, "todo", {"text": "alice's secret"})

    # When Bob asks for it by its namespace, or by her partition's labels on disk
    org, alice_id = identities["enduser"].org_id, identities["enduser"].user_id
    for namespace in (ns, [f"user:{alice_id}", *ns], [f"org:{org}", f"user:{alice_id}", *ns]):
        assert await bob.store.get_item(namespace, "todo") is None
    # ...searches or lists everything he can
    assert (tuple(ns), "todo") not in await keys_found(bob, [])
    assert await keys_found(bob, ns) == []
    assert await keys_found(bob, [], filter={"text": "alice's secret"}) == []
    assert tuple(ns) not in await all_namespaces(bob)
    assert tuple(ns) not in await all_namespaces(bob, ns[:1])
    assert await all_namespaces(bob, ["*", ns[1]]) == []
    # ...deletes it, then writes it
    await bob.store.delete_item(ns, "todo")
    await bob.store.put_item(ns, "todo", {"text": "bob was here"})

    # Then Alice's note is unchanged, and Bob only ever touched his own namespace of that name
    item = await alice.store.get_item(ns, "todo")
    assert item is not None
    assert item["value"] == {"text": "alice's secret"}
    bobs = await bob.store.get_item(ns, "todo")
    assert bobs is not None
    assert bobs["value"] == {"text": "bob was here"}
    assert [hit["value"] for hit in (await alice.store.search_items(ns))["items"]] == [
        {"text": "alice's secret"}
    ]


async def test_builders_and_admins_cannot_reach_an_end_users_notes_either(stack: LiveStack) -> None:
    alice = stack.client("enduser")
    ns = notes()
    await alice.store.put_item(ns, "todo", {"text": "alice's secret"})
    for who in ("editor", "admin", "viewer"):
        other = stack.client(who)
        assert await other.store.get_item(ns, "todo") is None
        assert await keys_found(other, ns) == []
        assert tuple(ns) not in await all_namespaces(other)
    # A viewer may not write even their own private namespace (writing needs use_agents)
    with pytest.raises(PermissionDeniedError):
        await stack.client("viewer").store.put_item(ns, "todo", {"text": "viewer"})
    item = await alice.store.get_item(ns, "todo")
    assert item is not None
    assert item["value"] == {"text": "alice's secret"}


async def test_the_same_users_item_round_trips(stack: LiveStack) -> None:
    alice = stack.client("enduser")
    ns = notes()
    await alice.store.put_item(ns, "todo", {"text": "v1"})
    await alice.store.put_item(ns, "todo", {"text": "v2"})
    item = await alice.store.get_item(ns, "todo")
    assert item is not None
    assert (item["namespace"], item["key"], item["value"]) == (ns, "todo", {"text": "v2"})
    assert await keys_found(alice, ns) == [(tuple(ns), "todo")]
    assert (tuple(ns), "todo") in await keys_found(alice, [])
    assert tuple(ns) in await all_namespaces(alice)
    assert await all_namespaces(alice, ns) == [tuple(ns)]
    await alice.store.delete_item(ns, "todo")
    assert await alice.store.get_item(ns, "todo") is None


async def test_the_empty_prefix_pages_through_own_and_org_shared_items_exactly_once(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    # Given Alice's private items, org-shared items an admin wrote, and Bob's private items, one tag
    tag = uuid.uuid4().hex
    alice, bob, admin = stack.client("enduser"), stack.client("enduser2"), stack.client("admin")
    shared = ["org", identities["admin"].org_id, "shared", tag]
    for i in range(3):
        await alice.store.put_item(["mine", tag], f"mine{i}", {"tag": tag})
        await admin.store.put_item(shared, f"org{i}", {"tag": tag})
        await bob.store.put_item(["mine", tag], f"bob{i}", {"tag": tag})
    # When Alice pages through everything she can see, one item at a time
    pages = [
        (await alice.store.search_items([], filter={"tag": tag}, limit=1, offset=i))["items"]
        for i in range(7)
    ]
    # Then she sees each of her items and each org-shared one once, newest first, and none of Bob's
    seen = [(tuple(page[0]["namespace"]), page[0]["key"]) for page in pages if page]
    assert len(seen) == 6
    assert pages[6] == []
    assert sorted(seen) == sorted(
        [(("mine", tag), f"mine{i}") for i in range(3)] + [(tuple(shared), f"org{i}") for i in range(3)]
    )
    whole = (await alice.store.search_items([], filter={"tag": tag}, limit=6))["items"]
    assert [(tuple(item["namespace"]), item["key"]) for item in whole] == seen
    updated = [item["updated_at"] for item in whole]
    assert updated == sorted(updated, reverse=True)
    # And the namespace listing holds both partitions, paged without gaps or repeats
    listed = await all_namespaces(alice)
    assert ("mine", tag) in listed
    assert tuple(shared) in listed
    paged = [
        tuple(namespace)
        for offset in range(0, len(listed) + 2, 2)
        for namespace in (await alice.store.list_namespaces(limit=2, offset=offset))["namespaces"]
    ]
    assert paged == listed
    assert await all_namespaces(alice, ["*", tag]) == [("mine", tag)]
    assert await all_namespaces(alice, ["*", identities["admin"].org_id, "shared", tag]) == [tuple(shared)]


async def _remember(client: LangGraphClient, namespace: list[str], key: str, value: Any = None) -> Any:
    thread = await client.threads.create()
    values = await client.runs.wait(
        thread["thread_id"], "memory", input={"namespace": namespace, "key": key, "value": value}
    )
    assert isinstance(values, dict), values
    return values


async def test_a_graph_run_by_bob_cannot_read_alices_memories(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    # Given Alice's memory, kept by a third-party graph at ("memories", <her id>)
    alice, bob = stack.client("enduser"), stack.client("enduser2")
    alice_id = identities["enduser"].user_id
    memories = ["memories", alice_id]
    key = uuid.uuid4().hex
    saved = await _remember(alice, memories, key, {"likes": "tea"})
    assert saved["found"] == {"likes": "tea"}
    # When Bob runs the same graph asking for her namespace (a user id taken from input)
    stolen = await _remember(bob, memories, key)
    # Then the graph finds nothing of hers
    assert stolen["found"] is None
    assert key not in stolen["listed"]
    # And her memory is still there for her, in a graph and through the API (the run wrote it as hers)
    assert (await _remember(alice, memories, key))["found"] == {"likes": "tea"}
    item = await alice.store.get_item(memories, key)
    assert item is not None
    assert item["value"] == {"likes": "tea"}
    assert await bob.store.get_item(memories, key) is None


async def test_a_graph_write_by_bob_to_alices_namespace_does_not_overwrite_hers(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    alice, bob = stack.client("enduser"), stack.client("enduser2")
    memories = ["memories", identities["enduser"].user_id]
    key = uuid.uuid4().hex
    await alice.store.put_item(memories, key, {"likes": "tea"})
    await _remember(bob, memories, key, {"likes": "poison"})
    item = await alice.store.get_item(memories, key)
    assert item is not None
    assert item["value"] == {"likes": "tea"}


# --- the migration of the org-shared items of before ---------------------------------------------


def _migration() -> Any:
    import importlib

    return importlib.import_module(MIGRATION)


@pytest.fixture
def scratch_store(live_stack: LiveStack) -> Any:
    """A session-private copy of LangGraph's `store` table: the migration's SQL runs on it alone (an
    unqualified `store` resolves to the temporary table first)."""
    from atrium.runtime.db import conninfo

    with psycopg.connect(conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TEMPORARY TABLE store (LIKE public.store INCLUDING ALL)")
        yield conn


def _rows(conn: Any) -> dict[tuple[str, str], Any]:
    return {
        (prefix, key): value for prefix, key, value in conn.execute("SELECT prefix, key, value FROM store")
    }


def _insert(conn: Any, prefix: str, key: str, value: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO store (prefix, key, value) VALUES (%s, %s, %s::jsonb)",
        (prefix, key, Json(value)),
    )


def test_the_migration_moves_old_shared_rows_to_an_org_shared_place_and_back(scratch_store: Any) -> None:
    conn, org = scratch_store, str(uuid.uuid4())
    # Given rows of before: shared notes (one whose first label looks like a partition), org memory
    _insert(conn, f"org:{org}.notes", "k", {"v": "shared"})
    _insert(conn, f"org:{org}.user:7.prefs", "k", {"v": "looks private"})
    _insert(conn, f"org:{org}.org.{org}.memories", "AGENTS.md", {"v": "org"})
    # ...and one whose shared place is already taken
    _insert(conn, f"org:{org}.taken", "k", {"v": "old"})
    _insert(conn, f"org:{org}.org.{org}.shared.taken", "k", {"v": "new"})
    migration = _migration()
    # When the migration runs
    conn.execute(migration.FORWARD)
    # Then every old shared row is org-shared now, under ("org", <org>, "shared", ...), and none is lost
    assert _rows(conn) == {
        (f"org:{org}.org.{org}.shared.notes", "k"): {"v": "shared"},
        (f"org:{org}.org.{org}.shared.user:7.prefs", "k"): {"v": "looks private"},
        (f"org:{org}.org.{org}.memories", "AGENTS.md"): {"v": "org"},
        (f"org:{org}.taken", "k"): {"v": "old"},
        (f"org:{org}.org.{org}.shared.taken", "k"): {"v": "new"},
    }
    # And reversed, the shared rows go back, while a private row written since is parked out of reach
    _insert(conn, f"org:{org}.user:8.notes", "k", {"v": "private"})
    conn.execute(migration.REVERSE)
    rows = _rows(conn)
    assert rows[(f"org:{org}.notes", "k")] == {"v": "shared"}
    assert rows[(f"org:{org}.user:7.prefs", "k")] == {"v": "looks private"}
    assert rows[(f"parked.org:{org}.user:8.notes", "k")] == {"v": "private"}
    assert (f"org:{org}.user:8.notes", "k") not in rows
    # ...and applied again, the parked private row is back in its partition
    conn.execute(migration.FORWARD)
    rows = _rows(conn)
    assert rows[(f"org:{org}.user:8.notes", "k")] == {"v": "private"}
    assert rows[(f"org:{org}.org.{org}.shared.notes", "k")] == {"v": "shared"}


async def test_a_migrated_shared_item_is_read_by_members_and_written_by_admins(
    stack: LiveStack, identities: dict[str, Identity]
) -> None:
    shared = ["org", identities["admin"].org_id, "shared", "notes", uuid.uuid4().hex[:8]]
    admin, alice = stack.client("admin"), stack.client("enduser")
    await admin.store.put_item(shared, "k", {"v": "shared"})
    item = await alice.store.get_item(shared, "k")
    assert item is not None
    assert item["value"] == {"v": "shared"}
    with pytest.raises(PermissionDeniedError):
        await alice.store.put_item(shared, "k", {"v": "alice"})
    with pytest.raises(PermissionDeniedError):
        await stack.client("editor").store.put_item(shared, "k", {"v": "editor"})
    item = await alice.store.get_item(shared, "k")
    assert item is not None
    assert item["value"] == {"v": "shared"}
