"""Skills and memories seeded into the sandbox before a turn; memory changes synced back after it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from deepagents.backends.utils import create_file_data
from langgraph.runtime import Runtime
from langgraph.store.memory import InMemoryStore

import atrium_agents.sandbox.run_scoped as run_scoped
from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.memory import Scope, user_namespace
from atrium_agents.deep_agent.sandbox_files import SandboxFilesMiddleware
from atrium_agents.deep_agent.skills import assistant_skills_namespace, org_skills_namespace
from atrium_agents.sandbox import BubblewrapProvider, BubblewrapSandbox
from tests.conftest import ALICE, BOB, Agent

SCOPE = Scope(user_id="alice", org_id="acme", assistant_id="helper")
OK = "\n[Command succeeded with exit code 0]"


@pytest.fixture(autouse=True)
def worker_provider(provider: BubblewrapProvider, monkeypatch: pytest.MonkeyPatch) -> BubblewrapProvider:
    monkeypatch.setattr(run_scoped, "_default_provider", provider)
    return provider


def _put(agent: Agent, namespace: tuple[str, ...], key: str, text: str) -> None:
    agent.store.put(namespace, key, dict(create_file_data(text)))


def _read(agent: Agent, namespace: tuple[str, ...], key: str) -> str | None:
    item = agent.store.get(namespace, key)
    return None if item is None else item.value["content"]


async def test_skills_and_memories_are_seeded_and_changed_memories_synced_back(
    make_agent: Callable[..., Agent],
):
    # given
    agent = make_agent(sandbox="thread")
    _put(agent, org_skills_namespace(SCOPE), "/csv/SKILL.md", "org csv skill")
    _put(agent, org_skills_namespace(SCOPE), "/pdf/SKILL.md", "org pdf skill")
    _put(agent, assistant_skills_namespace(SCOPE), "/csv/SKILL.md", "assistant csv skill")
    _put(agent, user_namespace(SCOPE), "/notes.md", "tea: black\n")
    _put(agent, user_namespace(SCOPE), "/kept.md", "untouched\n")

    # when
    seen = await agent.reply(
        ALICE,
        "t-1",
        "run `cd /workspace && cat skills/csv/SKILL.md skills/pdf/SKILL.md memories/notes.md`",
    )
    await agent.reply(
        ALICE,
        "t-1",
        "run `echo 'milk: none' >> /workspace/memories/notes.md && mkdir -p /workspace/memories/trips"
        " && echo Lisbon > /workspace/memories/trips/2027.md && echo hacked > /workspace/skills/csv/SKILL.md"
        " && rm /workspace/memories/kept.md`",
    )

    # then
    assert seen == "Command output:\nassistant csv skillorg pdf skilltea: black\n" + OK
    assert _read(agent, user_namespace(SCOPE), "/notes.md") == "tea: black\nmilk: none\n"
    assert _read(agent, user_namespace(SCOPE), "/trips/2027.md") == "Lisbon\n"
    assert _read(agent, user_namespace(SCOPE), "/kept.md") == "untouched\n"
    assert _read(agent, assistant_skills_namespace(SCOPE), "/csv/SKILL.md") == "assistant csv skill"
    # the next turn sees the synced memory through the file tools, and the sandbox gets the skill back
    again = await agent.reply(ALICE, "t-1", "run `cat /workspace/skills/csv/SKILL.md`")
    assert again == "Command output:\nassistant csv skill" + OK


async def test_an_assistant_sandbox_gets_skills_but_never_a_users_memories(make_agent: Callable[..., Agent]):
    # given: one sandbox shared by alice and bob
    agent = make_agent(sandbox="assistant")
    _put(agent, user_namespace(SCOPE), "/notes.md", "alice's secret\n")
    _put(agent, org_skills_namespace(SCOPE), "/csv/SKILL.md", "org csv skill")

    # when
    await agent.reply(ALICE, "t-1", "run `echo hi`")
    bob = await agent.reply(BOB, "t-2", "run `ls -R /workspace`")

    # then
    listing = "/workspace:\nskills\n\n/workspace/skills:\ncsv\n\n/workspace/skills/csv:\nSKILL.md\n"
    assert bob == "Command output:\n" + listing + OK


async def test_read_only_memories_are_seeded_but_not_synced_back(make_agent: Callable[..., Agent]):
    # given
    agent = make_agent(sandbox="thread", user_memory="read_only")
    _put(agent, user_namespace(SCOPE), "/notes.md", "tea: black\n")

    # when
    reply = await agent.reply(
        ALICE, "t-1", "run `cat /workspace/memories/notes.md; echo x > /workspace/memories/notes.md`"
    )

    # then
    assert reply == "Command output:\ntea: black\n" + OK
    assert _read(agent, user_namespace(SCOPE), "/notes.md") == "tea: black\n"


async def test_a_memory_the_agent_changed_through_the_store_during_the_turn_keeps_that_version(
    sandbox: BubblewrapSandbox,
):
    # given: a memory seeded into the sandbox
    store = InMemoryStore()
    store.put(user_namespace(SCOPE), "/notes.md", dict(create_file_data("v1\n")))
    store.put(user_namespace(SCOPE), "/other.md", dict(create_file_data("o1\n")))
    middleware = SandboxFilesMiddleware(sandbox, Context(sandbox="thread"))
    runtime = Runtime(context=Context(user_id="alice", org_id="acme", assistant_id="helper"), store=store)
    seeded = await middleware.abefore_agent({"messages": []}, runtime)
    assert seeded is not None

    # when: the agent rewrites notes.md through /memories/ while code edits both copies in the sandbox
    store.put(user_namespace(SCOPE), "/notes.md", dict(create_file_data("from the agent\n")))
    sandbox.execute("echo code >> /workspace/memories/notes.md; echo code >> /workspace/memories/other.md")
    await middleware.aafter_agent({"messages": [], **seeded}, runtime)

    # then
    assert store.get(user_namespace(SCOPE), "/notes.md").value["content"] == "from the agent\n"
    assert store.get(user_namespace(SCOPE), "/other.md").value["content"] == "o1\ncode\n"


async def test_with_a_sandbox_a_skill_is_both_used_through_the_skills_support_and_seeded(
    make_agent: Callable[..., Agent],
):
    # given
    agent = make_agent(sandbox="thread")
    skill = '---\nname: tally\ndescription: Counts things.\n---\n\nAnswer with the phrase "Counted.".\n'
    _put(agent, org_skills_namespace(SCOPE), "/tally/SKILL.md", skill)

    # when
    used = await agent.reply(ALICE, "t-1", "use the tally skill")
    written = await agent.reply(
        ALICE, "t-1", 'call write_file {"file_path": "/skills/org/tally/SKILL.md", "content": "hijacked"}'
    )
    seeded = await agent.reply(ALICE, "t-1", "run `cat /workspace/skills/tally/SKILL.md`")

    # then
    assert used == "Counted."
    assert "hijacked" not in (_read(agent, org_skills_namespace(SCOPE), "/tally/SKILL.md") or "")
    assert "permission" in written.lower() or "read-only" in written.lower(), written
    assert seeded == "Command output:\n" + skill + OK
