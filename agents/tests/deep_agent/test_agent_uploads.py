"""Files a user attached to a thread: the platform puts them in the store at ``("uploads", thread_id)``
(the owner's private partition); the agent reads them under ``/uploads/`` and may not change them."""

from __future__ import annotations

from deepagents.backends.utils import create_file_data
from langchain_core.messages import AIMessage

from tests.conftest import ALICE


def calls(result):
    return [
        (c["name"], c["args"]) for m in result["messages"] if isinstance(m, AIMessage) for c in m.tool_calls
    ]


async def test_the_agent_reads_the_attached_file_and_quotes_it(make_agent):
    # given: a file attached to thread t1
    agent = make_agent()
    content = "Quarterly figures\nrevenue grew 12 percent\n"
    agent.store.put(("uploads", "t1"), "/figures.csv", dict(create_file_data(content)))

    # when
    result = await agent.say(ALICE, "t1", "Summarise the attached file")

    # then
    assert calls(result) == [
        ("ls", {"path": "/uploads/"}),
        ("read_file", {"file_path": "/uploads/figures.csv"}),
    ]
    assert result["messages"][-1].text == (
        "/uploads/figures.csv begins:\n> Quarterly figures\n> revenue grew 12 percent"
    )


async def test_a_file_named_in_the_question_is_read_and_another_threads_files_are_not_seen(make_agent):
    # given: a file attached to another thread only
    agent = make_agent()
    agent.store.put(("uploads", "t1"), "/notes.md", dict(create_file_data("secret plans\n")))

    # when: the user asks about it in thread t2
    result = await agent.say(ALICE, "t2", "What is in notes.md?")

    # then
    assert calls(result) == [("ls", {"path": "/uploads/"})]
    assert result["messages"][-1].text == "I cannot find a file named notes.md in this conversation."


async def test_the_agent_may_not_overwrite_an_attached_file(make_agent):
    # given
    agent = make_agent()
    agent.store.put(("uploads", "t1"), "/notes.md", dict(create_file_data("as given\n")))

    # when
    result = await agent.say(
        ALICE, "t1", 'call write_file {"file_path": "/uploads/notes.md", "content": "x"}'
    )

    # then: refused, and the file is as the user gave it
    assert "permission denied" in result["messages"][-1].text
    item = agent.store.get(("uploads", "t1"), "/notes.md")
    assert item is not None
    assert item.value["content"] == "as given\n"
