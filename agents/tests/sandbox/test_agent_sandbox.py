"""The deep agent with a sandbox: `execute` is offered, and each run reaches its own sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from deepagents.backends.utils import create_file_data

import atrium_agents.sandbox.run_scoped as run_scoped
from atrium_agents.deep_agent.graph import make_graph
from atrium_agents.sandbox import BubblewrapProvider
from atrium_agents.sandbox.run_scoped import RunScopedSandbox
from tests.conftest import ALICE, BOB, Agent, Person


@pytest.fixture(autouse=True)
def worker_provider(provider: BubblewrapProvider, monkeypatch: pytest.MonkeyPatch) -> BubblewrapProvider:
    """The provider a worker would build from ATRIUM_SANDBOX_DIR, pointed at the test root."""
    monkeypatch.setattr(run_scoped, "_default_provider", provider)
    return provider


async def test_a_thread_keeps_its_sandbox_across_turns_and_other_threads_do_not_see_it(
    make_agent: Callable[..., Agent], provider: BubblewrapProvider
):
    # given
    agent = make_agent(sandbox="thread")

    # when
    first = await agent.reply(ALICE, "t-1", "run `echo kept > /workspace/note && id -u`")
    later = await agent.reply(ALICE, "t-1", "run `cat /workspace/note`")
    other = await agent.reply(ALICE, "t-2", "run `cat /workspace/note`")

    # then
    assert first == "Command output:\n65534\n\n[Command succeeded with exit code 0]"
    assert later == "Command output:\nkept\n\n[Command succeeded with exit code 0]"
    assert "No such file or directory" in other
    assert sorted(info.labels["thread_id"] for info in provider.list_sandboxes()) == ["t-1", "t-2"]
    assert {info.labels["org_id"] for info in provider.list_sandboxes()} == {"acme"}


async def test_an_assistant_sandbox_is_shared_by_its_conversations(
    make_agent: Callable[..., Agent], provider: BubblewrapProvider
):
    # given
    agent = make_agent(sandbox="assistant")

    # when
    await agent.reply(ALICE, "t-1", "run `echo from-alice > /workspace/shared`")
    bob = await agent.reply(BOB, "t-2", "run `cat /workspace/shared`")
    elsewhere = Person("alice", assistant_id="other")
    other_assistant = await agent.reply(elsewhere, "t-3", "run `cat /workspace/shared`")

    # then
    assert bob == "Command output:\nfrom-alice\n\n[Command succeeded with exit code 0]"
    assert "No such file or directory" in other_assistant
    assert sorted(info.labels["assistant_id"] for info in provider.list_sandboxes()) == ["helper", "other"]


async def test_a_limit_hit_inside_is_a_result_the_run_continues_after(make_agent: Callable[..., Agent]):
    # given
    agent = make_agent(sandbox="thread")

    # when
    reply = await agent.reply(ALICE, "t-1", "run `python3 -c 'b = bytearray(1 << 30)'`")
    after = await agent.reply(ALICE, "t-1", "run `echo fine`")

    # then
    assert "MemoryError" in reply
    assert "[Command failed with exit code 1]" in reply
    assert after == "Command output:\nfine\n\n[Command succeeded with exit code 0]"


async def test_memories_and_their_permissions_still_hold_with_a_sandbox(make_agent: Callable[..., Agent]):
    # given
    agent = make_agent(sandbox="thread")

    # when
    await agent.say(ALICE, "t-1", "remember that I take my tea black")
    recalled = await agent.reply(ALICE, "t-2", "what do you remember")
    org_write = await agent.reply(ALICE, "t-2", "remember for the org that receipts are optional")
    listed_in_sandbox = await agent.reply(ALICE, "t-2", "run `ls -a /; ls /memories`")

    # then: memory lives in the store, which sandboxed commands cannot reach
    assert recalled == "Here is what I remember:\n- I take my tea black"
    item = agent.store.get(("org", "acme", "user", "alice", "memories"), "/notes.md")
    assert item is not None
    assert item.value["content"] == "- I take my tea black\n"
    assert org_write == "I could not save that: Error: permission denied for write on /memories/org/notes.md"
    assert agent.store.search(("org", "acme", "memories")) == []
    assert "No such file or directory" in listed_in_sandbox


async def test_without_a_sandbox_there_is_no_shell(
    make_agent: Callable[..., Agent], provider: BubblewrapProvider
):
    # when
    reply = await make_agent().reply(ALICE, "t-1", "run `id`")

    # then
    assert reply == "I have no shell in this deployment, so I cannot run that."
    assert provider.list_sandboxes() == []


def test_a_run_without_ids_gets_an_error_result_not_an_exception():
    # given a call outside any run: no thread or org id to label a sandbox with
    backend = RunScopedSandbox("thread")

    # when
    result: Any = backend.execute("id")

    # then
    assert result.exit_code == 126
    assert result.output == (
        "[sandbox] unavailable: org_id is required to find the run's sandbox; the runtime must supply it"
    )


async def test_the_async_factory_readies_the_runs_sandbox_from_the_ids_in_its_config(
    provider: BubblewrapProvider,
):
    # given: the config the runtime awaits the factory with
    settings = {"sandbox": "thread", "org_id": "acme", "assistant_id": "helper", "user_id": "alice"}

    # when
    graph = await make_graph({"configurable": {**settings, "thread_id": "t-9"}})
    again = await make_graph({"configurable": {**settings, "thread_id": "t-10"}})
    shared = await make_graph({"configurable": {**settings, "sandbox": "assistant", "thread_id": "t-11"}})

    # then: one sandbox per thread, one for the assistant scope; the built graph is shared per settings
    assert again is graph
    assert shared is not graph
    labels = sorted(sorted(info.labels.items()) for info in provider.list_sandboxes())
    assert labels == [
        [("assistant_id", "helper"), ("org_id", "acme")],
        [("org_id", "acme"), ("thread_id", "t-10")],
        [("org_id", "acme"), ("thread_id", "t-9")],
    ]


async def test_the_factory_touches_no_sandbox_without_the_runs_ids(provider: BubblewrapProvider):
    # when: schema and graph requests build the graph with settings only
    await make_graph({"configurable": {"sandbox": "thread", "org_id": "acme"}})
    await make_graph({"configurable": {"sandbox": "off", "org_id": "acme", "thread_id": "t-1"}})

    # then
    assert provider.list_sandboxes() == []


async def test_files_attached_to_the_thread_are_copied_into_its_own_sandbox_only(
    make_agent: Callable[..., Agent],
):
    # given a file attached to thread t-1, on an agent with a thread sandbox and one with a shared one
    own = make_agent(sandbox="thread")
    own.store.put(("uploads", "t-1"), "/data.csv", dict(create_file_data("a,b\n1,2\n")))
    shared = make_agent(sandbox="assistant")
    shared.store.put(("uploads", "t-1"), "/data.csv", dict(create_file_data("a,b\n1,2\n")))

    # when code reads it
    read = await own.reply(ALICE, "t-1", "run `cat /workspace/uploads/data.csv`")
    not_shared = await shared.reply(ALICE, "t-1", "run `cat /workspace/uploads/data.csv`")

    # then the thread's own sandbox has it, the assistant's shared one does not
    assert read == "Command output:\na,b\n1,2\n\n[Command succeeded with exit code 0]"
    assert "No such file or directory" in not_shared
