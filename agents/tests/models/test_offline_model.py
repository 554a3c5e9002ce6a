from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from atrium_agents.models.offline import (
    OFFLINE_PROVIDER,
    OfflineChatModel,
    OfflineModelUnavailableError,
    plan_reply,
)


@tool
async def read_file(file_path: str) -> str:
    """Read a file."""
    return ""


@tool
async def write_file(file_path: str, content: str) -> str:
    """Write a file."""
    return ""


@tool
async def task(description: str, subagent_type: str) -> str:
    """Start a subagent."""
    return ""


@tool
async def execute(command: str) -> str:
    """Run a shell command."""
    return ""


async def test_astream_yields_word_chunks_sharing_one_id_and_marks_the_last():
    # given
    model = OfflineChatModel()

    # when
    chunks = [chunk async for chunk in model.astream([HumanMessage("hello offline world")])]

    # then
    assert [chunk.content for chunk in chunks] == ["You", " said:", " hello", " offline", " world"]
    assert len({chunk.id for chunk in chunks}) == 1
    assert [chunk.chunk_position for chunk in chunks] == [None, None, None, None, "last"]
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)


def test_sync_stream_matches_invoke():
    # given
    model = OfflineChatModel()
    conversation = [HumanMessage("same answer both ways")]

    # when
    streamed = "".join(str(chunk.content) for chunk in model.stream(conversation))
    invoked = model.invoke(conversation)

    # then
    assert streamed == "You said: same answer both ways"
    assert invoked.content == streamed
    assert invoked.usage_metadata == {"input_tokens": 6, "output_tokens": 8, "total_tokens": 14}


def test_usage_reports_the_conversation_before_the_last_message_as_cached_input():
    # given a conversation of two messages (the first sent in an earlier call too)
    model = OfflineChatModel()
    conversation = [HumanMessage("x" * 40), HumanMessage("same answer both ways")]

    # when
    invoked = model.invoke(conversation)

    # then the earlier message's tokens are read from the cache: part of the input, reported apart
    assert invoked.usage_metadata == {
        "input_tokens": 16,
        "output_tokens": 8,
        "total_tokens": 24,
        "input_token_details": {"cache_read": 10},
    }


def test_identity_says_offline():
    # given
    model = OfflineChatModel()

    # then
    assert model._llm_type == OFFLINE_PROVIDER == "atrium-offline"
    assert model._get_ls_params()["ls_provider"] == "atrium-offline"
    assert model.profile == {"max_input_tokens": 128_000, "tool_calling": True}


async def test_streamed_tool_call_arrives_whole_on_the_last_chunk():
    # given
    model = OfflineChatModel().bind_tools([read_file, write_file])

    # when
    chunks = [chunk async for chunk in model.astream([HumanMessage("what do you remember")])]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk

    # then
    assert chunks[-1].chunk_position == "last"
    assert [(call["name"], call["args"]) for call in merged.tool_calls] == [
        ("read_file", {"file_path": "/memories/notes.md"})
    ]


async def test_remember_reads_then_appends_then_confirms():
    # given
    tools = ["read_file", "write_file"]
    conversation: list = [HumanMessage("remember that tea beats coffee")]

    # when: the model reads the notes first
    first = plan_reply(conversation, tools)
    conversation += [
        AIMessage("", tool_calls=first.tool_calls),
        ToolMessage(
            "@@ lines 1-1 of 1 @@\n- cats purr", tool_call_id=first.tool_calls[0]["id"], name="read_file"
        ),
    ]
    second = plan_reply(conversation, tools)
    conversation += [
        AIMessage("", tool_calls=second.tool_calls),
        ToolMessage(
            "Updated file /memories/notes.md", tool_call_id=second.tool_calls[0]["id"], name="write_file"
        ),
    ]
    third = plan_reply(conversation, tools)

    # then
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [
        ("read_file", {"file_path": "/memories/notes.md"})
    ]
    assert [(c["name"], c["args"]) for c in second.tool_calls] == [
        ("write_file", {"file_path": "/memories/notes.md", "content": "- cats purr\n- tea beats coffee\n"})
    ]
    assert third.tool_calls == []
    assert third.text == "I will remember that tea beats coffee."


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("remember for the org that x", ("read_file", {"file_path": "/memories/org/notes.md"})),
        ("remember for this assistant that x", ("read_file", {"file_path": "/memories/assistant/notes.md"})),
        ("what does the org remember", ("read_file", {"file_path": "/memories/org/notes.md"})),
        ("research tides", ("task", {"description": "tides", "subagent_type": "researcher"})),
        (
            "delegate the summary",
            ("task", {"description": "the summary", "subagent_type": "general-purpose"}),
        ),
        ("run `ls -la`", ("execute", {"command": "ls -la"})),
        (
            'call write_file {"file_path": "/a.md", "content": "b"}',
            ("write_file", {"file_path": "/a.md", "content": "b"}),
        ),
    ],
)
def test_requests_map_to_tool_calls(request_text, expected):
    # when
    reply = plan_reply([HumanMessage(request_text)], ["read_file", "write_file", "task", "execute"])

    # then
    assert [(call["name"], call["args"]) for call in reply.tool_calls] == [expected]


def test_execute_is_only_called_when_bound():
    # when
    reply = plan_reply([HumanMessage("run `ls`")], ["read_file"])

    # then
    assert reply.tool_calls == []
    assert reply.text == "I have no shell in this deployment, so I cannot run that."


def test_loop_forever_keeps_calling_a_tool_after_results():
    # given
    conversation: list = [HumanMessage("please loop forever")]

    # when
    for _ in range(3):
        reply = plan_reply(conversation, ["ls"])
        call = reply.tool_calls[0]
        conversation += [
            AIMessage("", tool_calls=[call]),
            ToolMessage("[]", tool_call_id=call["id"], name="ls"),
        ]

    # then
    calls = [m.tool_calls[0] for m in conversation if isinstance(m, AIMessage)]
    assert [(c["name"], c["args"]) for c in calls] == [("ls", {"path": "/"})] * 3
    assert len({c["id"] for c in calls}) == 3


async def test_same_conversation_gives_same_tool_call_ids():
    # given
    model = OfflineChatModel().bind_tools([task])
    conversation = [HumanMessage("research tides")]

    # when
    first = await model.ainvoke(conversation)
    second = await model.ainvoke(conversation)

    # then
    assert first.tool_calls == second.tool_calls
    assert first.tool_calls[0]["id"].startswith("call_")


async def test_fail_first_raises_then_recovers():
    # given
    model = OfflineChatModel(fail_first=1)

    # when / then
    with pytest.raises(OfflineModelUnavailableError):
        await model.ainvoke([HumanMessage("hi")])
    assert (await model.ainvoke([HumanMessage("hi")])).content == "You said: hi"


def test_no_human_message_gets_a_greeting():
    assert plan_reply([], []).text == "Hello! I am the offline model; nothing I say leaves this machine."


ORDER_SCHEMA = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}


def test_use_the_tool_calls_it_with_the_text_as_its_first_required_argument():
    reply = plan_reply(
        [HumanMessage("Please use the lookup_order tool for A-17.")],
        ["ls", "lookup_order"],
        {"lookup_order": ORDER_SCHEMA},
    )
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("lookup_order", {"order_id": "A-17"})]


def test_use_the_tool_with_json_passes_the_object_and_answers_from_the_result():
    asked = HumanMessage('use the lookup_order tool with {"order_id": "B-2"}')
    first = plan_reply([asked], ["lookup_order"], {"lookup_order": ORDER_SCHEMA})
    assert first.tool_calls[0]["args"] == {"order_id": "B-2"}
    call = first.tool_calls[0]
    answered = plan_reply(
        [
            asked,
            AIMessage("", tool_calls=[call]),
            ToolMessage("shipped", tool_call_id=call["id"], name="lookup_order"),
        ],
        ["lookup_order"],
    )
    assert answered.text == "lookup_order returned:\nshipped"


def test_use_a_tool_that_is_not_bound_is_only_quoted():
    reply = plan_reply([HumanMessage("use the lookup_order tool for A-17")], ["ls"])
    assert reply.tool_calls == []


SKILLS_PROMPT = (
    "## Skills System\n\n**Available Skills:**\n\n"
    "- **haiku**: Writes haiku.\n  -> Read `/skills/org/haiku/SKILL.md` for full instructions\n"
    "- **tally**: Counts things.\n  -> Allowed tools: execute\n"
    "  -> Read `/skills/assistant/tally/SKILL.md` for full instructions\n"
)


def test_a_named_listed_skill_is_read_then_followed():
    system, ask = SystemMessage(SKILLS_PROMPT), HumanMessage("use the tally skill please")
    first = plan_reply([system, ask], ["read_file"])
    assert first.tool_calls[0]["name"] == "read_file"
    assert first.tool_calls[0]["args"] == {"file_path": "/skills/assistant/tally/SKILL.md"}

    body = "---\nname: tally\ndescription: Counts things.\n---\n# Tally\n\nAnswer with the phrase “Three.”\n"
    call = AIMessage("", tool_calls=first.tool_calls)
    read = ToolMessage(body, tool_call_id=first.tool_calls[0]["id"], name="read_file")
    assert plan_reply([system, ask, call, read], ["read_file"]).text == "Three."


def test_a_skill_named_in_passing_is_used_and_an_unlisted_one_is_not():
    system = SystemMessage(SKILLS_PROMPT)
    passing = plan_reply([system, HumanMessage("write me a haiku about rain")], ["read_file"])
    unlisted = plan_reply([system, HumanMessage("use the poem skill")], ["read_file"])
    no_prompt = plan_reply([HumanMessage("use the haiku skill")], ["read_file"])

    assert passing.tool_calls[0]["args"] == {"file_path": "/skills/org/haiku/SKILL.md"}
    assert unlisted.text == "You said: use the poem skill"
    assert no_prompt.text == "You said: use the haiku skill"


def test_a_skill_without_an_answer_line_is_followed_by_its_first_instruction():
    system, ask = SystemMessage(SKILLS_PROMPT), HumanMessage("use the haiku skill")
    first = plan_reply([system, ask], ["read_file"])
    call = AIMessage("", tool_calls=first.tool_calls)
    body = "---\nname: haiku\ndescription: Writes haiku.\n---\n\n# Five, seven, five\n"
    read = ToolMessage(body, tool_call_id=first.tool_calls[0]["id"], name="read_file")
    assert (
        plan_reply([system, ask, call, read], ["read_file"]).text
        == "Following the haiku skill: Five, seven, five"
    )
