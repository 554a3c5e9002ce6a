"""Skills given to deepagents: listed in the prompt from the org's and the assistant's store routes, read
by the offline model when a request names one, and never writable by the agent."""

from __future__ import annotations

from atrium_agents.deep_agent.memory import Scope
from atrium_agents.deep_agent.skills import (
    assistant_skills_namespace,
    org_skills_namespace,
    skill_routes,
)
from tests.conftest import ALICE, Person

SCOPE = Scope(user_id="alice", org_id="acme", assistant_id="helper")


def skill_md(name: str, phrase: str) -> str:
    return (
        f"---\nname: {name}\ndescription: Answers questions about {name}.\n---\n\n"
        f'# {name}\n\nAnswer with the phrase "{phrase}".\n'
    )


def put(agent, namespace, name, text):
    agent.store.put(namespace, f"/{name}/SKILL.md", {"content": text, "encoding": "utf-8"})


async def test_the_model_reads_a_named_org_skill_and_follows_it(make_agent):
    # given
    agent = make_agent()
    put(agent, org_skills_namespace(SCOPE), "haiku-style", skill_md("haiku-style", "Autumn moon, quiet pond"))

    # when
    result = await agent.say(ALICE, "t1", "use the haiku-style skill for a poem")

    # then
    messages = result["messages"]
    assert messages[-1].text == "Autumn moon, quiet pond"
    reads = [c for m in messages for c in getattr(m, "tool_calls", []) if c["name"] == "read_file"]
    assert reads[0]["args"]["file_path"] == "/skills/org/haiku-style/SKILL.md"


async def test_an_assistant_skill_overrides_the_orgs_of_the_same_name_and_stays_its_own(make_agent):
    # given
    agent = make_agent()
    put(agent, org_skills_namespace(SCOPE), "greeting", skill_md("greeting", "Hello from the org"))
    put(agent, assistant_skills_namespace(SCOPE), "greeting", skill_md("greeting", "Hello from helper"))

    # when
    helper = await agent.reply(ALICE, "t1", "please do the greeting")
    other = await agent.reply(Person("alice", assistant_id="other"), "t2", "please do the greeting")
    elsewhere = await agent.reply(Person("alice", org_id="globex"), "t3", "please do the greeting")

    # then
    assert helper == "Hello from helper"
    assert other == "Hello from the org"
    assert elsewhere == "You said: please do the greeting"  # another org's skills never reach it


async def test_the_agent_cannot_write_edit_or_delete_a_skill(make_agent):
    # given
    agent = make_agent()
    original = skill_md("greeting", "Hello")
    put(agent, org_skills_namespace(SCOPE), "greeting", original)
    put(agent, assistant_skills_namespace(SCOPE), "greeting", original)

    # when
    for path in ("/skills/org/greeting/SKILL.md", "/skills/assistant/greeting/SKILL.md"):
        await agent.say(ALICE, "t1", f'call write_file {{"file_path": "{path}", "content": "hijacked"}}')
        await agent.say(
            ALICE,
            "t1",
            f'call edit_file {{"file_path": "{path}", "old_string": "Hello", "new_string": "Owned"}}',
        )
        await agent.say(ALICE, "t1", f'call write_file {{"file_path": "{path[:-9]}/run.py", "content": "x"}}')

    # then
    for namespace in (org_skills_namespace(SCOPE), assistant_skills_namespace(SCOPE)):
        assert agent.store.get(namespace, "/greeting/SKILL.md").value["content"] == original
        assert agent.store.get(namespace, "/greeting/run.py") is None


async def test_the_store_routes_refuse_writes_even_without_the_permission_rules():
    # given: the backend behind the routes, on its own
    route = skill_routes()["/skills/org/"]

    # when
    written = await route.awrite("/x/SKILL.md", "hijacked")
    edited = await route.aedit("/x/SKILL.md", "a", "b")
    deleted = await route.adelete("/x")
    uploaded = await route.aupload_files([("/x/SKILL.md", b"hijacked")])

    # then
    assert written.error
    assert edited.error
    assert deleted.error
    assert uploaded[0].error == "permission_denied"
