"""A deterministic chat model that needs no network.

Every test and the default development setup run on it, so its behaviour is a pure function of the
conversation and of the tools bound to it: the same messages always give the same reply, also after a
process restart, so a resumed or replayed run takes the same path. It understands a handful of
phrases in the last human message and answers everything else by quoting it back:

| the human says                     | the model does (when the tool is bound)                            |
|------------------------------------|--------------------------------------------------------------------|
| ``plan X``                         | ``write_todos`` of three steps, ticks them off one by one, answers |
| ``summarise the attached file``    | ``ls`` of ``/uploads/``, ``read_file`` of the newest upload, then  |
| / ``what is in NAME``              | quotes its first lines (NAME: that upload, when it exists)         |
| ``draft X in /path``               | ``write_file`` of a draft, then ``edit_file`` to finish it         |
| ``remember that X``                | ``read_file`` then ``write_file`` of ``/memories/notes.md`` + X    |
| ``remember for this assistant ...``| the same on ``/memories/assistant/notes.md``                       |
| ``remember for the org ...``       | the same on ``/memories/org/notes.md``                             |
| ``what do you remember``           | ``read_file`` of the notes (``... for this assistant/the org``)    |
| ``research X`` / ``delegate X``    | ``task`` to the ``researcher`` / ``general-purpose`` subagent      |
| ``run `cmd` ``                     | ``execute`` with ``cmd``                                           |
| ``call TOOL {json}``               | that tool with those arguments                                     |
| ``use the TOOL tool for X``        | that tool (an MCP server's, say) with X as its first required text |
|                                    | argument, or with X's arguments when X is a JSON object            |
| ``use the NAME skill ...``, or a   | ``read_file`` of that skill's SKILL.md (from the skills the prompt  |
| listed skill's name in the message | lists), then follows it: ``Answer with the phrase X`` -> X         |
| ``loop forever``                   | ``ls`` again after every result: a runaway agent for limit tests   |

Every reply reports `usage_metadata` (about 4 characters a token; every message but the last counted
as cached input, as a provider with prompt caching would), so usage and budgets can be tested.
After the tools of a turn have answered it replies from their results. The suggested prompts of the
web app's empty chat (a plan, a preference to remember, research for a subagent, a draft whose edit
waits for approval when the assistant's ``interrupt_on`` names ``edit_file``) are phrased for these.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

OFFLINE_PROVIDER = "atrium-offline"
"""What the model reports as its provider (`ls_provider`), so `/info` and the UI can label it."""

UPLOADS_DIR = "/uploads/"
"""Where the files a user attached to the thread are (atrium_agents.deep_agent.memory)."""
USER_NOTES = "/memories/notes.md"
ASSISTANT_NOTES = "/memories/assistant/notes.md"
ORG_NOTES = "/memories/org/notes.md"

_REMEMBER = re.compile(
    r"^remember\s+(?:for\s+(?P<scope>the\s+org\w*|this\s+assistant)\s+)?(?:that\s+)?(?P<fact>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_RECALL = re.compile(
    r"^what\s+do(?:es)?\s+(?:you|the\s+org\w*|this\s+assistant)\s+remember"
    r"(?:\s+(?:for|about)\s+(?P<scope>the\s+org\w*|this\s+assistant))?",
    re.IGNORECASE,
)
_DELEGATE = re.compile(r"^(?P<verb>research|delegate)\s+(?P<what>.+)$", re.IGNORECASE | re.DOTALL)
_RUN = re.compile(r"^run\s+`(?P<cmd>[^`]+)`", re.IGNORECASE)
_CALL = re.compile(r"^call\s+(?P<tool>[\w-]+)\s*(?P<args>\{.*\})?\s*$", re.IGNORECASE | re.DOTALL)
_USE = re.compile(
    r"\buse\s+(?:the\s+)?`?(?P<tool>[\w-]+)`?\s+tool\b(?:\s*(?:with|for|on|about|:)?\s*(?P<rest>.+?))?[.!?]?$",
    re.IGNORECASE | re.DOTALL,
)
_PLAN = re.compile(r"^plan\s+(?P<what>.+?)[.!]?$", re.IGNORECASE | re.DOTALL)
_DRAFT = re.compile(
    r"^draft\s+(?P<what>.+?)\s+(?:in|to|at)\s+(?P<path>/[\w./-]*\w)\b", re.IGNORECASE | re.DOTALL
)
_DRAFT_MARK = "(draft: to be finished)"
# How deepagents' SkillsMiddleware lists a skill in the system prompt.
_SKILL_LISTED = re.compile(
    r"^- \*\*(?P<name>[^*\n]+)\*\*:[^\n]*\n(?:[ \t]*-> Allowed tools:[^\n]*\n)?"
    r"[ \t]*-> Read `(?P<path>[^`]+)` for full instructions",
    re.MULTILINE,
)
_USE_SKILL = re.compile(r"\buse\s+(?:the\s+)?`?(?P<name>[\w-]+)`?\s+skill\b", re.IGNORECASE)
_SKILL_ANSWER = re.compile(
    r"^\W*answer\s+with\s+(?:the\s+phrase\s+)?[\"'“]?(?P<phrase>.+?)[\"'”]?\s*\.?\s*$",
    re.IGNORECASE,
)
_ATTACHED = re.compile(
    r"\b(?:summari[sz]e|read|describe|open)\b.*\b(?:attached|uploaded)\s+(?:file|document)"
    r"|^what(?:'s|\s+is)\s+in\s+(?P<name>[\w.-]+\.\w+)",
    re.IGNORECASE | re.DOTALL,
)
_LISTED_PATH = re.compile(r"'(/[^']+)'")
_QUOTED_LINES = 5
_RUNAWAY = re.compile(r"\bloop\s+forever\b", re.IGNORECASE)
_READ_HEADER = re.compile(r"^@@ .* @@$")


class OfflineModelUnavailableError(RuntimeError):
    """Raised by an offline model configured to fail, to exercise retries and fallbacks."""


@dataclass(frozen=True)
class Reply:
    """What the model decided to say: text and/or tool calls."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


def plan_reply(
    messages: Sequence[BaseMessage],
    tool_names: Sequence[str],
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
) -> Reply:
    """Decide the reply to a conversation: the whole behaviour of the offline model (`schemas`: the
    bound tools' JSON schemas of parameters, by name).

    Pure: it reads only its arguments, so a conversation replayed after a crash gets the same answer.
    """
    human_index = _last_index(messages, HumanMessage)
    if human_index is None:
        return Reply(text="Hello! I am the offline model; nothing I say leaves this machine.")
    request = _text(messages[human_index]).strip()
    turn = list(messages[human_index + 1 :])
    results = [m for m in turn if isinstance(m, ToolMessage)]
    tools = set(tool_names)
    position = len(messages)

    def call(name: str, **args: Any) -> Reply:
        return Reply(tool_calls=[_tool_call(position, name, args)])

    if _RUNAWAY.search(request) and "ls" in tools:
        # Never converges: only a call limit ends this turn.
        return call("ls", path="/")

    skills = _listed_skills(messages)
    if (
        (match := _USE_SKILL.search(request))
        and match.group("name").lower() in skills
        and "read_file" in tools
    ):
        name = match.group("name").lower()
        return _skill(name, skills[name], turn, call)

    if match := _REMEMBER.match(request):
        path = _notes_path(match.group("scope"))
        fact = match.group("fact").strip().rstrip(".")
        if not {"read_file", "write_file"} <= tools:
            return Reply(text=f"I cannot save notes here, but for now: {fact}.")
        read = _result_of(turn, "read_file")
        written = _result_of(turn, "write_file")
        if read is None:
            return call("read_file", file_path=path)
        if written is None:
            existing = _file_lines(read)
            return call(
                "write_file",
                file_path=path,
                content="".join(f"{line}\n" for line in [*existing, f"- {fact}"]),
            )
        if _failed(written):
            return Reply(text=f"I could not save that: {_text(written)}")
        return Reply(text=f"I will remember that {fact}.")

    if match := _RECALL.match(request):
        path = _notes_path(match.group("scope") or _scope_from_subject(request))
        if "read_file" not in tools:
            return Reply(text="I have no memory to read here.")
        read = _result_of(turn, "read_file")
        if read is None:
            return call("read_file", file_path=path)
        lines = _file_lines(read)
        if not lines:
            return Reply(text="I do not remember anything yet.")
        return Reply(text="Here is what I remember:\n" + "\n".join(lines))

    if (match := _ATTACHED.search(request)) and {"ls", "read_file"} <= tools:
        return _read_attached(match.group("name"), turn, call)

    if (match := _PLAN.match(request)) and "write_todos" in tools:
        return _plan(match.group("what").strip(), turn, call)

    if (match := _DRAFT.match(request)) and {"write_file", "edit_file"} <= tools:
        return _draft(match.group("what").strip(), match.group("path"), turn, call)

    if (match := _DELEGATE.match(request)) and "task" in tools:
        if results:
            return Reply(text=f"The subagent reports: {_text(results[-1])}")
        subagent = "researcher" if match.group("verb").lower() == "research" else "general-purpose"
        return call("task", description=match.group("what").strip(), subagent_type=subagent)

    if match := _RUN.match(request):
        if "execute" not in tools:
            return Reply(text="I have no shell in this deployment, so I cannot run that.")
        if results:
            return Reply(text=f"Command output:\n{_text(results[-1])}")
        return call("execute", command=match.group("cmd"))

    if (match := _USE.search(request)) and match.group("tool") in tools:
        if results:
            return _answer_from(results[-1])
        tool = match.group("tool")
        return call(tool, **_arguments_for((schemas or {}).get(tool) or {}, match.group("rest") or ""))

    if (match := _CALL.match(request)) and match.group("tool") in tools:
        if results:
            return _answer_from(results[-1])
        return call(match.group("tool"), **json.loads(match.group("args") or "{}"))

    # A listed skill named in passing: a model would recognise it in the request and open it.
    named = [name for name in skills if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", request, re.I)]
    if named and "read_file" in tools:
        return _skill(named[0], skills[named[0]], turn, call)

    if results:
        return _answer_from(results[-1])
    return Reply(text=f"You said: {request}")


def _listed_skills(messages: Sequence[BaseMessage]) -> dict[str, str]:
    """The skills the system prompt lists, as name -> path of their SKILL.md."""
    prompt = "\n".join(_text(m) for m in messages if isinstance(m, SystemMessage))
    return {m.group("name").strip().lower(): m.group("path") for m in _SKILL_LISTED.finditer(prompt)}


def _skill(name: str, path: str, turn: Sequence[BaseMessage], call: Callable[..., Reply]) -> Reply:
    """Read the skill's instructions, then follow them: an ``Answer with the phrase X`` line is
    answered with X; otherwise the reply names the skill and its first instruction."""
    read = _result_of(turn, "read_file")
    if read is None:
        return call("read_file", file_path=path)
    if _failed(read):
        return Reply(text=f"I could not open the {name} skill: {_text(read)}")
    lines = _file_lines(read)
    if lines and lines[0].strip() == "---":  # past the frontmatter
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), 0)
        lines = lines[end + 1 :]
    for line in lines:
        if found := _SKILL_ANSWER.match(line):
            return Reply(text=found.group("phrase"))
    first = next((line.strip("# ").strip() for line in lines if line.strip("# ").strip()), "")
    return Reply(text=f"Following the {name} skill: {first}")


def _arguments_for(schema: Mapping[str, Any], rest: str) -> dict[str, Any]:
    """What a model would pass: a JSON object as it is, else the text for the first required string
    parameter (``use the lookup_order tool for A-17`` -> ``{"order_id": "A-17"}``)."""
    rest = rest.strip()
    if rest.startswith("{"):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    properties = schema.get("properties") or {}
    required = [name for name in schema.get("required") or [] if name in properties]
    for name in [*required, *[p for p in properties if p not in required]]:
        if (properties[name] or {}).get("type", "string") == "string" and rest:
            return {name: rest}
    return {}


def _plan_steps(what: str) -> list[str]:
    return [f"Gather what {what} needs", f"Outline {what} step by step", "Check the plan and summarise it"]


def _plan(what: str, turn: Sequence[BaseMessage], call: Callable[..., Reply]) -> Reply:
    """A plan as an agent with a todo list keeps one: write it, tick the steps off one write at a time
    (each step done and the next started, so a UI shows the plan moving), then answer."""
    steps = _plan_steps(what)
    written = _results_of(turn, "write_todos")
    done = len(written)
    if done > len(steps) or any(_failed(result) for result in written):
        lines = "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
        return Reply(text=f"Here is the plan for {what}:\n{lines}")
    statuses = [
        "completed" if n < done else "in_progress" if n == done else "pending" for n in range(len(steps))
    ]
    return call(
        "write_todos",
        todos=[{"content": step, "status": status} for step, status in zip(steps, statuses, strict=True)],
    )


def _read_attached(name: str | None, turn: Sequence[BaseMessage], call: Callable[..., Reply]) -> Reply:
    """List the thread's uploads, read the one asked for (or the last listed), quote its first lines."""
    listed = _result_of(turn, "ls")
    if listed is None:
        return call("ls", path=UPLOADS_DIR)
    paths = [] if _failed(listed) else _LISTED_PATH.findall(_text(listed))
    if name is not None:
        paths = [path for path in paths if path.rsplit("/", 1)[-1] == name]
    if not paths:
        wanted = f"a file named {name}" if name else "any attached file"
        return Reply(text=f"I cannot find {wanted} in this conversation.")
    path = paths[-1]
    read = _result_of(turn, "read_file")
    if read is None:
        return call("read_file", file_path=path)
    if _failed(read):
        return Reply(text=f"I could not read {path}: {_text(read)}")
    lines = _file_lines(read)[:_QUOTED_LINES]
    if not lines:
        return Reply(text=f"{path} is empty.")
    return Reply(text=f"{path} begins:\n" + "\n".join(f"> {line}" for line in lines))


def _draft(what: str, path: str, turn: Sequence[BaseMessage], call: Callable[..., Reply]) -> Reply:
    """Write a draft, then finish it with an edit: the edit is what an approval setting holds back."""
    written = _result_of(turn, "write_file")
    if written is None:
        return call(
            "write_file", file_path=path, content=f"# {what[:1].upper()}{what[1:]}\n\n{_DRAFT_MARK}\n"
        )
    if _failed(written):
        return Reply(text=f"I could not write {path}: {_text(written)}")
    edited = _result_of(turn, "edit_file")
    if edited is None:
        return call(
            "edit_file",
            file_path=path,
            old_string=_DRAFT_MARK,
            new_string=f"Ready: {what}, written and checked.",
        )
    if _failed(edited):
        return Reply(text=f"I left {path} as a draft: {_text(edited)}")
    return Reply(text=f"I wrote {what} to {path} and finished it.")


class OfflineChatModel(BaseChatModel):
    """Deterministic, tool-calling, token-streaming chat model that never leaves the process.

    ``fail_first`` makes the first N calls raise (retry tests); ``always_fail`` makes every call raise
    (fallback tests); ``token_delay`` slows streaming down so a UI can show it.
    """

    model_name: str = "offline"
    token_delay: float = 0.0
    fail_first: int = 0
    always_fail: bool = False
    _calls: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return OFFLINE_PROVIDER

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"provider": OFFLINE_PROVIDER, "model_name": self.model_name}

    def _resolve_model_profile(self) -> ModelProfile | None:
        # A profile keeps deepagents' summarisation thresholds sane for a model it does not know.
        return ModelProfile(max_input_tokens=128_000, tool_calling=True)

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = OFFLINE_PROVIDER
        params["ls_model_name"] = self.model_name
        return params

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # Bound like a real provider: the tool schemas travel as a call kwarg, so the reply can depend
        # on which tools the agent actually offers (e.g. no `execute` without a sandbox).
        del tool_choice
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._reply(messages, kwargs)
        message = AIMessage(
            content=reply.text,
            tool_calls=reply.tool_calls,
            usage_metadata=_usage(messages, reply),
            response_metadata={"model_name": self.model_name, "model_provider": OFFLINE_PROVIDER},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages, kwargs)
        for chunk in self._chunks(messages, reply):
            if run_manager is not None and isinstance(chunk.message.content, str):
                run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk
            if self.token_delay:
                time.sleep(self.token_delay)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        reply = self._reply(messages, kwargs)
        for chunk in self._chunks(messages, reply):
            if run_manager is not None and isinstance(chunk.message.content, str):
                await run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk
            if self.token_delay:
                await asyncio.sleep(self.token_delay)

    def _reply(self, messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> Reply:
        self._calls += 1
        if self.always_fail or self._calls <= self.fail_first:
            raise OfflineModelUnavailableError(f"offline model {self.model_name!r} is configured to fail")
        functions = [tool["function"] for tool in kwargs.get("tools") or []]
        return plan_reply(
            messages,
            [f["name"] for f in functions],
            {f["name"]: f.get("parameters") or {} for f in functions},
        )

    def _chunks(self, messages: Sequence[BaseMessage], reply: Reply) -> list[ChatGenerationChunk]:
        pieces: list[str] = re.findall(r"\s*\S+", reply.text) or [""]
        chunks = [AIMessageChunk(content=piece) for piece in pieces[:-1]]
        # The last chunk carries the tool calls, usage and `chunk_position="last"`, as providers do.
        chunks.append(
            AIMessageChunk(
                content=pieces[-1],
                tool_call_chunks=[
                    ToolCallChunk(
                        name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
                    )
                    for index, call in enumerate(reply.tool_calls)
                ],
                usage_metadata=_usage(messages, reply),
                response_metadata={"model_name": self.model_name, "model_provider": OFFLINE_PROVIDER},
                chunk_position="last",
            )
        )
        return [ChatGenerationChunk(message=chunk) for chunk in chunks]


def _tool_call(position: int, name: str, args: dict[str, Any]) -> ToolCall:
    # Derived from the conversation, so a replayed turn reproduces the same id.
    digest = hashlib.sha256(f"{position}:{name}:{json.dumps(args, sort_keys=True)}".encode()).hexdigest()
    return ToolCall(name=name, args=args, id=f"call_{digest[:24]}", type="tool_call")


def _answer_from(result: ToolMessage) -> Reply:
    if _failed(result):
        return Reply(text=f"The {result.name or 'tool'} call did not succeed: {_text(result)}")
    return Reply(text=f"{result.name or 'The tool'} returned:\n{_text(result)}")


def _result_of(turn: Sequence[BaseMessage], tool: str) -> ToolMessage | None:
    """The result of the first call to `tool` in this turn, matched through the calling AI message."""
    return next(iter(_results_of(turn, tool)), None)


def _results_of(turn: Sequence[BaseMessage], tool: str) -> list[ToolMessage]:
    """The results of every call to `tool` in this turn (a tool result may carry no name)."""
    call_ids = {
        call["id"]
        for message in turn
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["name"] == tool
    }
    return [m for m in turn if isinstance(m, ToolMessage) and m.tool_call_id in call_ids]


def _failed(result: ToolMessage) -> bool:
    text = _text(result)
    return result.status == "error" or text.startswith("Error") or "permission denied" in text


def _file_lines(read: ToolMessage) -> list[str]:
    """The lines of a file from a read_file result; none when the read failed (e.g. no such file)."""
    if _failed(read):
        return []
    rows = _text(read).splitlines()
    # read_file puts notices and a "@@ lines 1-3 of 3 @@" status header above the verbatim content.
    header = next((i for i, row in enumerate(rows) if _READ_HEADER.match(row)), -1)
    return [row for row in rows[header + 1 :] if row.strip()]


def _notes_path(scope: str | None) -> str:
    scope = (scope or "").lower()
    if scope.startswith("this"):
        return ASSISTANT_NOTES
    if scope.startswith("the"):
        return ORG_NOTES
    return USER_NOTES


def _scope_from_subject(request: str) -> str | None:
    lowered = request.lower()
    if lowered.startswith("what does the org"):
        return "the org"
    if lowered.startswith("what does this assistant"):
        return "this assistant"
    return None


def _last_index(messages: Sequence[BaseMessage], kind: type[BaseMessage]) -> int | None:
    return next((i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], kind)), None)


def _text(message: BaseMessage) -> str:
    return message.text


def _usage(messages: Sequence[BaseMessage], reply: Reply) -> UsageMetadata:
    # A rough 4-characters-per-token estimate: enough for usage dashboards and budget tests.
    prompt = sum(len(_text(m)) for m in messages) // 4 + 1
    completion = len(reply.text) // 4 + 1 + 10 * len(reply.tool_calls)
    usage = UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)
    # Every message but the last was sent before: a provider with prompt caching reads that prefix
    # from its cache, and reports it as cached input (part of the input, priced lower).
    cached = sum(len(_text(m)) for m in messages[:-1]) // 4
    if cached:
        usage["input_token_details"] = {"cache_read": cached}
    return usage
