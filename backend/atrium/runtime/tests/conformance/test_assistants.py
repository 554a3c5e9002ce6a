"""§1.1 assistants: CRUD, search, count, versions, latest, graph, schemas, subgraphs (rows 1-3, 33)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import is_uuid, new_thread

ASSISTANT_FIELDS = {
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "metadata",
    "name",
    "description",
    "version",
    "created_at",
    "updated_at",
}


async def test_system_assistant_per_graph(stack: LiveStack) -> None:
    """Row 1."""
    client = stack.client()
    found = await client.assistants.search(graph_id="approver")
    system = [a for a in found if a["metadata"].get("created_by") == "system"]
    assert len(system) >= 1
    assert set(system[0]) >= ASSISTANT_FIELDS
    assert system[0]["graph_id"] == "approver"
    assert system[0]["version"] >= 1
    by_name = await client.assistants.get("approver")  # a graph name is accepted wherever an id is
    assert by_name["assistant_id"] == system[0]["assistant_id"]


async def test_create_update_versions_latest(stack: LiveStack) -> None:
    """Row 2."""
    client = stack.client()
    created = await client.assistants.create(graph_id="simple", config={}, metadata={"k": "v"}, name="conf")
    assert set(created) >= ASSISTANT_FIELDS
    assert is_uuid(created["assistant_id"])
    assert created["version"] == 1
    assert created["name"] == "conf"
    aid = created["assistant_id"]
    updated = await client.assistants.update(aid, metadata={"k2": "v2"})
    assert updated["version"] == 2
    assert updated["metadata"] == {"k": "v", "k2": "v2"}
    versions = await client.assistants.get_versions(aid)
    assert sorted(v["version"] for v in versions) == [1, 2]
    assert all("updated_at" not in v or v["updated_at"] for v in versions)
    latest = await client.assistants.set_latest(aid, 1)
    assert latest["version"] == 1
    assert latest["metadata"] == {"k": "v"}
    assert (await client.assistants.get(aid))["version"] == 1
    only_v2 = await client.assistants.get_versions(aid, metadata={"k2": "v2"})
    assert [v["version"] for v in only_v2] == [2]


async def test_create_conflicts_and_do_nothing(stack: LiveStack) -> None:
    client = stack.client()
    aid = str(uuid.uuid4())
    await client.assistants.create(graph_id="simple", assistant_id=aid, name="first")
    with pytest.raises(ConflictError):
        await client.assistants.create(graph_id="simple", assistant_id=aid)
    again = await client.assistants.create(
        graph_id="simple", assistant_id=aid, if_exists="do_nothing", name="x"
    )
    assert again["name"] == "first"
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.create(graph_id="no-such-graph")


async def test_get_unknown_is_404(stack: LiveStack) -> None:
    """Row 3."""
    with pytest.raises(NotFoundError):
        await stack.client().assistants.get(str(uuid.uuid4()))


async def test_search_count_and_pagination(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 33, and the pagination headers of §0."""
    client = stack.client()
    tag = uuid.uuid4().hex
    ids = [
        (await client.assistants.create(graph_id="simple", metadata={"tag": tag}, name=f"n{i}"))[
            "assistant_id"
        ]
        for i in range(3)
    ]
    found = await client.assistants.search(metadata={"tag": tag})
    assert sorted(a["assistant_id"] for a in found) == sorted(ids)
    assert await client.assistants.count(metadata={"tag": tag}) == 3
    assert await client.assistants.count(graph_id="no-such-graph-either") == 0
    page = await client.assistants.search(metadata={"tag": tag}, limit=1, response_format="object")
    assert len(page["assistants"]) == 1
    assert page["next"] == "1"
    named = await client.assistants.search(metadata={"tag": tag}, name="n1")
    assert [a["name"] for a in named] == ["n1"]
    ordered = await client.assistants.search(metadata={"tag": tag}, sort_by="name", sort_order="asc")
    assert [a["name"] for a in ordered] == ["n0", "n1", "n2"]
    selected = await client.assistants.search(metadata={"tag": tag}, select=["assistant_id", "name"])
    assert all(set(a) == {"assistant_id", "name"} for a in selected)
    response = await http.post("/assistants/search", json={"metadata": {"tag": tag}, "limit": 2})
    assert response.headers["X-Pagination-Total"] == "3"
    assert response.headers["X-Pagination-Next"] == "2"


async def test_delete(stack: LiveStack, http: httpx.AsyncClient) -> None:
    client = stack.client()
    aid = (await client.assistants.create(graph_id="simple"))["assistant_id"]
    tid = await new_thread(client)
    await client.runs.wait(tid, aid, input={"steps": []})
    response = await http.delete(f"/assistants/{aid}", params={"delete_threads": "true"})
    assert response.status_code == 204
    with pytest.raises(NotFoundError):
        await client.assistants.get(aid)
    with pytest.raises(NotFoundError):
        await client.threads.get(tid)
    with pytest.raises(NotFoundError):
        await client.assistants.delete(aid)


async def test_runs_use_the_assistant_config(stack: LiveStack) -> None:
    """§3: assistant config → run; run metadata includes the assistant's."""
    client = stack.client()
    assistant = await client.assistants.create(graph_id="simple", metadata={"owner_team": "conf"})
    tid = await new_thread(client)
    run = await client.runs.create(tid, assistant["assistant_id"], input={"steps": []})
    assert run["assistant_id"] == assistant["assistant_id"]
    assert run["metadata"]["owner_team"] == "conf"
    assert run["metadata"]["assistant_id"] == assistant["assistant_id"]


async def test_graph(stack: LiveStack, http: httpx.AsyncClient) -> None:
    client = stack.client()
    graph = await client.assistants.get_graph("simple")
    node_ids = {n["id"] for n in graph["nodes"]}
    assert {"__start__", "first", "second", "third", "__end__"} <= node_ids
    assert {(e["source"], e["target"]) for e in graph["edges"]} >= {("first", "second"), ("second", "third")}
    xray = await client.assistants.get_graph("approver", xray=True)
    assert xray["nodes"]
    assert (await http.get("/assistants/simple/graph", params={"xray": "1"})).status_code == 200


async def test_schemas(stack: LiveStack) -> None:
    schemas = await stack.client().assistants.get_schemas("simple")
    assert schemas["graph_id"] == "simple"
    for key in ("input_schema", "output_schema", "state_schema", "config_schema", "context_schema"):
        assert key in schemas
    assert "steps" in schemas["state_schema"]["properties"]
    assert "messages" in schemas["input_schema"]["properties"]


async def test_subgraphs(stack: LiveStack) -> None:
    client = stack.client()
    subgraphs = await client.assistants.get_subgraphs("simple")
    assert subgraphs == {}
    assert isinstance(await client.assistants.get_subgraphs("approver", recurse=True), dict)
