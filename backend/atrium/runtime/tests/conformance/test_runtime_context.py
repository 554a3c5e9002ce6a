"""Issue 20, runtime context: a graph reads `runtime.server_info` (assistant, graph, the authenticated
user), `runtime.execution_info` (thread, run, checkpoint) and its per-run `context` as it would on the
Agent Server, through the official Python SDK against the live stack. The `runtime_info` graphs return
what they read; one has a dataclass `context_schema`, the other a TypedDict."""

from __future__ import annotations

import httpx
import pytest

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import is_uuid, new_thread


@pytest.mark.parametrize(
    ("graph_id", "context_type"), [("runtime_info", "RuntimeContext"), ("runtime_info_typed", "dict")]
)
async def test_a_graph_reads_server_info_execution_info_and_its_context(
    stack: LiveStack, graph_id: str, context_type: str
) -> None:
    # Given a builder's thread
    client = stack.client("editor")
    tid = await new_thread(client)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as http:
        me = (await http.get("/api/v1/me", headers=stack.headers("editor"))).json()

    # When a run sets a context field and tries to set the user the server supplies
    run = await client.runs.create(tid, graph_id, input={}, context={"tone": "warm", "user_id": "spoofed"})
    result = await client.runs.join(tid, run["run_id"])
    seen = result["seen"]

    # Then the graph saw the server's ids, the authenticated user and the run's context
    assert seen["graph_id"] == graph_id
    assert is_uuid(seen["assistant_id"])
    assert seen["assistant_id"] == run["assistant_id"]
    assert seen["thread_id"] == tid
    assert seen["run_id"] == run["run_id"]
    assert seen["checkpoint_id"]
    user_id = str(me["id"])
    assert seen["identity"] == seen["user_item_identity"] == user_id
    assert seen["user"]["identity"] == user_id
    assert seen["user"]["is_authenticated"] is True
    assert seen["user"]["display_name"]
    assert seen["user"]["permissions"]
    assert seen["user"]["org_id"]
    assert seen["user"]["role"]
    assert seen["context_type"] == context_type
    assert seen["tone"] == "warm"
    assert seen["context_user_id"] == user_id  # the server's, never the client's


async def test_a_graph_factory_gets_its_caller_in_the_server_runtime(stack: LiveStack) -> None:
    # Given a graph built per run by a factory that scopes by `runtime.ensure_user().identity`
    client = stack.client("editor")
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as http:
        me = (await http.get("/api/v1/me", headers=stack.headers("editor"))).json()
    tid = await new_thread(client)
    # When a run is made, the factory knew its caller
    result = await client.runs.wait(tid, "runtime_factory", input={})
    assert result["seen"] == {"factory_identity": str(me["id"])}
