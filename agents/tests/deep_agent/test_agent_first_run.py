"""The suggested prompts of the web app's empty chat, answered by the demo deep agent on the offline
model as a real model would act: a plan kept with todos, a preference remembered, research handed to a
subagent, and a draft whose finishing edit waits for approval (the demo assistant's `interrupt_on`)."""

from __future__ import annotations

from langchain_core.messages import AIMessage
from langgraph.types import Command

from tests.conftest import ALICE

# The same texts as frontend/src/features/chat/suggested-prompts.tsx.
PLAN = "Plan a weekend in Lisbon"
REMEMBER = "Remember that I prefer short answers"
RESEARCH = "Research the history of tea"
DRAFT = "Draft a welcome note in /welcome.md"
DEMO_SETTINGS = {"interrupt_on": ["edit_file"]}  # seed_demo's, for the `agent` graph


def calls(result):
    return [
        (c["name"], c["args"]) for m in result["messages"] if isinstance(m, AIMessage) for c in m.tool_calls
    ]


async def test_a_plan_is_written_as_todos_worked_through_and_summarised(make_agent):
    # given
    agent = make_agent(**DEMO_SETTINGS)

    # when
    result = await agent.say(ALICE, "t1", PLAN)

    # then
    steps = [
        "Gather what a weekend in Lisbon needs",
        "Outline a weekend in Lisbon step by step",
        "Check the plan and summarise it",
    ]
    assert calls(result) == [
        (
            "write_todos",
            {
                "todos": [
                    {"content": steps[0], "status": "in_progress"},
                    {"content": steps[1], "status": "pending"},
                    {"content": steps[2], "status": "pending"},
                ]
            },
        ),
        (
            "write_todos",
            {
                "todos": [
                    {"content": steps[0], "status": "completed"},
                    {"content": steps[1], "status": "in_progress"},
                    {"content": steps[2], "status": "pending"},
                ]
            },
        ),
        (
            "write_todos",
            {
                "todos": [
                    {"content": steps[0], "status": "completed"},
                    {"content": steps[1], "status": "completed"},
                    {"content": steps[2], "status": "in_progress"},
                ]
            },
        ),
        ("write_todos", {"todos": [{"content": step, "status": "completed"} for step in steps]}),
    ]
    assert result["todos"] == [{"content": step, "status": "completed"} for step in steps]
    assert result["messages"][-1].text == (
        "Here is the plan for a weekend in Lisbon:\n1. " + "\n2. ".join(steps[:2]) + "\n3. " + steps[2]
    )


async def test_a_preference_is_remembered_without_asking(make_agent):
    agent = make_agent(**DEMO_SETTINGS)

    result = await agent.say(ALICE, "t1", REMEMBER)

    assert "__interrupt__" not in result
    assert [name for name, _ in calls(result)] == ["read_file", "write_file"]
    assert result["messages"][-1].text == "I will remember that I prefer short answers."
    notes = agent.store.get(("org", "acme", "user", "alice", "memories"), "/notes.md")
    assert notes.value["content"] == "- I prefer short answers\n"


async def test_research_goes_to_the_researcher_subagent(make_agent):
    agent = make_agent(**DEMO_SETTINGS)

    result = await agent.say(ALICE, "t1", RESEARCH)

    assert calls(result) == [("task", {"description": "the history of tea", "subagent_type": "researcher"})]
    assert result["messages"][-1].text.startswith("The subagent reports: ")


async def test_a_draft_is_written_then_its_edit_waits_for_approval(make_agent):
    # given
    agent = make_agent(**DEMO_SETTINGS)

    # when
    paused = await agent.say(ALICE, "t1", DRAFT)

    # then: the draft is written, the edit that finishes it waits
    [interrupt] = paused["__interrupt__"]
    [request] = interrupt.value["action_requests"]
    assert (request["name"], request["args"]) == (
        "edit_file",
        {
            "file_path": "/welcome.md",
            "old_string": "(draft: to be finished)",
            "new_string": "Ready: a welcome note, written and checked.",
        },
    )
    state = await agent.graph.aget_state(agent.config(ALICE, "t1"))
    assert "(draft: to be finished)" in str(state.values["files"]["/welcome.md"]["content"])

    # when approved
    done = await agent.graph.ainvoke(
        Command(resume={"decisions": [{"type": "approve"}]}),
        agent.config(ALICE, "t1"),
        context=agent.context(ALICE),
    )

    # then
    assert done["messages"][-1].text == "I wrote a welcome note to /welcome.md and finished it."
    assert "Ready: a welcome note" in str(done["files"]["/welcome.md"]["content"])


async def test_a_rejected_edit_leaves_the_draft(make_agent):
    agent = make_agent(**DEMO_SETTINGS)
    await agent.say(ALICE, "t1", DRAFT)

    done = await agent.graph.ainvoke(
        Command(resume={"decisions": [{"type": "reject", "message": "not yet"}]}),
        agent.config(ALICE, "t1"),
        context=agent.context(ALICE),
    )

    assert done["messages"][-1].text == (
        "I left /welcome.md as a draft: User rejected the tool call for `edit_file` with reason: not yet"
    )
    assert "(draft: to be finished)" in str(done["files"]["/welcome.md"]["content"])


async def test_without_an_approval_setting_the_draft_is_finished_at_once(make_agent):
    agent = make_agent()

    result = await agent.say(ALICE, "t1", DRAFT)

    assert [name for name, _ in calls(result)] == ["write_file", "edit_file"]
    assert result["messages"][-1].text == "I wrote a welcome note to /welcome.md and finished it."
