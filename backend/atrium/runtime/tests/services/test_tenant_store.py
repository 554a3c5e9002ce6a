"""TenantStore's partitions on disk (ADR 0018), on LangGraph's in-memory store: the mapping alone."""

from __future__ import annotations

import pytest
from langgraph.store.memory import InMemoryStore

from atrium.runtime.tenant_store import TenantStore

ORG = "o1"


def view(inner: InMemoryStore, user_id: int | None) -> TenantStore:
    return TenantStore(inner, ORG, user_id)


def test_private_and_shared_namespaces_land_in_their_partitions() -> None:
    inner = InMemoryStore()
    view(inner, 5).put(("memories", "7"), "k", {"v": "five"})
    view(inner, 7).put(("memories", "7"), "k", {"v": "seven"})
    view(inner, 5).put(("org", ORG, "memories"), "k", {"v": "org"})
    on_disk = sorted((item.namespace, item.value["v"]) for item in inner.search((), limit=100))
    assert on_disk == [
        (("org:o1", "org", "o1", "memories"), "org"),
        (("org:o1", "user:5", "memories", "7"), "five"),
        (("org:o1", "user:7", "memories", "7"), "seven"),
    ]
    # Each user reads their own item under the namespace as written; the shared one is the same for both
    five, seven = view(inner, 5), view(inner, 7)
    item = five.get(("memories", "7"), "k")
    assert item is not None
    assert (item.namespace, item.value) == (("memories", "7"), {"v": "five"})
    assert [i.value["v"] for i in seven.search(("memories",))] == ["seven"]
    assert sorted(i.value["v"] for i in five.search(())) == ["five", "org"]
    assert seven.list_namespaces() == [("memories", "7"), ("org", "o1", "memories")]
    assert seven.list_namespaces(max_depth=1) == [("memories",), ("org",)]


def test_a_view_without_a_user_has_no_private_partition() -> None:
    inner = InMemoryStore()
    view(inner, 5).put(("notes",), "k", {"v": "five"})
    view(inner, 5).put(("org", ORG, "memories"), "k", {"v": "org"})
    nobody = view(inner, None)
    assert nobody.get(("notes",), "k") is None
    assert [i.value["v"] for i in nobody.search(())] == ["org"]
    assert nobody.search(("notes",)) == []
    assert nobody.list_namespaces() == [("org", "o1", "memories")]
    with pytest.raises(PermissionError):
        nobody.put(("notes",), "k", {"v": "nobody"})
    with pytest.raises(PermissionError):
        nobody.delete(("notes",), "k")
