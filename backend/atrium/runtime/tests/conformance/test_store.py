"""§1.7 store (row 29)."""

from __future__ import annotations

import uuid

import httpx

from atrium.runtime.tests.conformance.conftest import LiveStack


async def test_item_round_trip(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 29."""
    client = stack.client()
    ns = ["conf", uuid.uuid4().hex, "items"]
    assert await client.store.put_item(ns, "k1", {"x": 1}) is None
    item = await client.store.get_item(ns, "k1")
    assert item is not None
    assert item["namespace"] == ns
    assert item["key"] == "k1"
    assert item["value"] == {"x": 1}
    assert item["created_at"]
    assert item["updated_at"]
    found = await client.store.search_items(ns[:2], filter={"x": 1})
    assert [i["key"] for i in found["items"]] == ["k1"]
    assert "score" in found["items"][0]
    assert await client.store.search_items(ns[:2], filter={"x": 2}) == {"items": []}
    listed = await client.store.list_namespaces(prefix=ns[:2])
    assert ns in listed["namespaces"]
    await client.store.delete_item(ns, "k1")
    assert await client.store.get_item(ns, "k1") is None


async def test_wire_codes(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """§0/§1.7: PUT and DELETE are 204; a missing key is 200 `null`; bad namespaces 422."""
    ns = ["conf", uuid.uuid4().hex]
    put = await http.put("/store/items", json={"namespace": ns, "key": "a", "value": {"v": 1}})
    assert put.status_code == 204
    assert put.content == b""
    missing = await http.get("/store/items", params={"namespace": ".".join(ns), "key": "nope"})
    assert missing.status_code == 200
    assert missing.json() is None
    no_key = await http.get("/store/items", params={"namespace": ".".join(ns)})
    assert no_key.status_code in (400, 422)
    delete = await http.request("DELETE", "/store/items", json={"namespace": ns, "key": "a"})
    assert delete.status_code == 204
    bad = await http.put("/store/items", json={"namespace": ["a.b"], "key": "x", "value": {}})
    assert bad.status_code == 422


async def test_search_pagination_and_namespaces(stack: LiveStack) -> None:
    client = stack.client()
    root = ["conf", uuid.uuid4().hex]
    for i in range(3):
        await client.store.put_item([*root, f"n{i}"], f"k{i}", {"i": i})
    page = await client.store.search_items(root, limit=2, offset=0)
    assert len(page["items"]) == 2
    rest = await client.store.search_items(root, limit=2, offset=2)
    assert len(rest["items"]) == 1
    shallow = await client.store.list_namespaces(prefix=root, max_depth=2)
    assert shallow["namespaces"] == [root] or all(len(n) <= 2 for n in shallow["namespaces"])
    deep = await client.store.list_namespaces(prefix=root)
    assert sorted(deep["namespaces"]) == [[*root, f"n{i}"] for i in range(3)]
    by_suffix = await client.store.list_namespaces(prefix=root, suffix=["n1"])
    assert by_suffix["namespaces"] == [[*root, "n1"]]
