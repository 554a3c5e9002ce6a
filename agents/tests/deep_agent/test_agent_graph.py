from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from atrium_agents.deep_agent.graph import SECRETS_KEY, graph_for, make_graph
from tests.conftest import ALICE


async def test_the_factory_builds_the_offline_default_without_config():
    # when
    graph = await make_graph()

    # then
    assert graph.name == "agent"
    assert graph.checkpointer is None
    assert graph.store is None
    schema = graph.get_context_jsonschema()
    assert schema is not None
    assert {"user_id", "org_id", "assistant_id", "model", "pii_rules", "interrupt_on", "org_memory"} <= set(
        schema["properties"]
    )


def test_a_sync_worker_can_invoke_it_with_ids_in_configurable_only():
    # given
    graph = graph_for({"configurable": {"pii_rules": [{"type": "email"}]}}).copy(
        {"checkpointer": InMemorySaver(), "store": InMemoryStore()}
    )
    config = {"configurable": {"thread_id": "t1", **ALICE.ids}}

    # when
    result = graph.invoke({"messages": [{"role": "user", "content": "call whoami"}]}, config)

    # then
    expected = "whoami returned:\nuser alice in org acme, talking to assistant helper"
    assert result["messages"][-1].text == expected


def test_secrets_stay_out_of_checkpoint_metadata_while_settings_go_in():
    # given: the runtime hands the same configurable to the factory and to the run
    saver = InMemorySaver()
    configurable = {"model": "offline", SECRETS_KEY: {"OPENAI_API_KEY": "sk-live-123"}}
    graph = graph_for({"configurable": configurable}).copy({"checkpointer": saver, "store": InMemoryStore()})
    config = {"configurable": {**configurable, "thread_id": "t1", **ALICE.ids}}

    # when
    graph.invoke({"messages": [{"role": "user", "content": "hi"}]}, config)

    # then
    metadata = [checkpoint.metadata for checkpoint in saver.list(None)]
    assert metadata
    assert all(m["user_id"] == "alice" and m["model"] == "offline" for m in metadata)
    assert not any("sk-live-123" in repr(m) for m in metadata)
    assert not any(b"sk-live-123" in data for _kind, data in saver.blobs.values())
