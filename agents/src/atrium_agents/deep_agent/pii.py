"""Personal data handling that holds for checkpoints, not only for what the model sees.

LangChain's ``PIIMiddleware`` rewrites messages in hooks that run as their own graph nodes, after the
node that produced the text has already been checkpointed: the raw input stays in the ``__start__``
write and the first snapshots of the thread's history. Here the same detectors and strategies (its
``RedactionRule``) act earlier:

* `PIISafeGraph` scrubs the input of every run, resume and state update at the graph boundary,
  before LangGraph writes its first checkpoint;
* `PIIGuardMiddleware` scrubs model replies inside the model node and tool results inside the tool
  node, so what those nodes write is already clean (and the model never receives raw text either).

Not covered: tokens streamed to clients while the model is still talking (they are not persisted in
checkpoints, but an event log that records them would be) and memory files seeded raw into the store.

**Bounded time.** A worker runs every graph of its process on one event loop, so a scrub must not
hold that loop. Custom patterns are compiled with the `regex` package and matched with its
`timeout=` (what one scrub's `SCRUB_BUDGET_SECONDS` has left; `regex` counts CPU time) and
`concurrent=True` (it lets go of the GIL); async entry points (`astream`, `astream_events`,
`abulk_update_state`, the middleware's async hooks) scrub on a pool of threads (`off_loop`), so the
loop goes on meanwhile. Built-in detectors (LangChain's, on `re`, which holds the GIL and cannot be
interrupted, and whose email pattern is quadratic on some input) see long text in overlapping
windows, the budget checked between them: each window holds the loop for milliseconds at most. A
scrub that runs out of budget fails closed: `PIIScrubTimeoutError`, so the run fails and nothing
unscrubbed is stored. Patterns that do not compile or are slow on a probe are refused when the
assistant is saved (`pii_patterns.pattern_problem`), but only the budget is a guarantee: a probe
cannot foresee every input.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain.agents.middleware._redaction import (
    BUILTIN_DETECTORS,
    Detector,
    PIIMatch,
    RedactionRule,
    ResolvedRedactionRule,
)
from langchain.agents.middleware.types import ExtendedModelResponse
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, Send, StateUpdate

from atrium_agents.deep_agent.context import PIIRule
from atrium_agents.deep_agent.pii_patterns import compile_pattern

MessageT = TypeVar("MessageT", bound=BaseMessage)
T = TypeVar("T")
R = TypeVar("R")
# What a model call handler may return (langchain's ModelCallResult, with any structured response).
ModelCallResult = ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]

# Structural strings that are not text: rewriting them would break the message, not protect anyone.
_STRUCTURAL_KEYS = frozenset({"id", "type", "role", "name", "tool_call_id", "subagent_type", "status"})


# Time one scrub may take before it fails closed (see the module docstring).
SCRUB_BUDGET_SECONDS = 1.0
# Built-in detectors see text in windows this long, overlapping by enough to hold any value they find
# whole (a URL, the longest, rarely passes 2 KB): `re` cannot be interrupted and holds the GIL, so a
# window is the longest stretch without a budget check or a GIL switch (about 25 ms on the email
# pattern's worst input, under 1 ms on ordinary text).
_WINDOW = 4096
_OVERLAP = 2048


class PIIScrubTimeoutError(TimeoutError):
    """PII rules ran out of time on some input: the run stops instead of storing it unscrubbed."""

    def __init__(self) -> None:
        super().__init__(
            "The assistant's PII rules took too long on this input; it was not processed or stored."
        )


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("pii_deadline", default=None)


@contextlib.contextmanager
def scrub_budget() -> Iterator[None]:
    """One scrub's time budget; a nested call (a message inside a value, the messages of a model
    request) shares its caller's."""
    if _deadline.get() is not None:
        yield
        return
    token = _deadline.set(time.monotonic() + SCRUB_BUDGET_SECONDS)
    try:
        yield
    finally:
        _deadline.reset(token)


# Scrubs from async code run here, not on the caller's event loop: `regex` lets go of the GIL while it
# matches, and `re` (built-in detectors) gets it back between windows, so the loop keeps running. A
# pool of its own, so slow scrubs never queue the loop's other thread work (`asyncio.to_thread`).
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="pii-scrub")


async def off_loop(func: Callable[[T], R], value: T) -> R:
    """`func(value)` on the scrub pool, in the caller's context (log ids, the budget of a scrub
    already under way)."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_POOL, context.run, func, value)


def _time_left() -> float:
    deadline = _deadline.get()
    left = SCRUB_BUDGET_SECONDS if deadline is None else deadline - time.monotonic()
    if left <= 0:
        raise PIIScrubTimeoutError
    return left


def _windowed(detect: Detector) -> Detector:
    """A built-in detector that sees long text in overlapping windows, checking the budget between
    them. A value is kept by the window it starts in, and only if it starts after the last one kept."""

    def detector(content: str) -> list[PIIMatch]:
        if len(content) <= _WINDOW + _OVERLAP:
            _time_left()
            return detect(content)
        found: list[PIIMatch] = []
        for start in range(0, len(content), _WINDOW):
            _time_left()
            for match in detect(content[start : start + _WINDOW + _OVERLAP]):
                begin = start + match["start"]
                if match["start"] < _WINDOW and (not found or begin >= found[-1]["end"]):
                    found.append({**match, "start": begin, "end": start + match["end"]})
        return found

    return detector


def _pattern_detector(pii_type: str, pattern: str) -> Detector:
    compiled = compile_pattern(pattern)

    def detector(content: str) -> list[PIIMatch]:
        try:
            return [
                PIIMatch(type=pii_type, value=match.group(), start=match.start(), end=match.end())
                for match in compiled.finditer(content, timeout=_time_left(), concurrent=True)
            ]
        except TimeoutError:
            raise PIIScrubTimeoutError from None

    return detector


class Redactor:
    """Applies an assistant's PII rules, in order, to text and to anything that holds text, within a
    time budget per call (`SCRUB_BUDGET_SECONDS`)."""

    def __init__(self, rules: Sequence[PIIRule]) -> None:
        self._rules: list[ResolvedRedactionRule] = [
            RedactionRule(
                pii_type=rule["type"],
                strategy=rule.get("strategy", "redact"),
                detector=_pattern_detector(rule["type"], rule["pattern"])
                if rule.get("pattern")
                else _windowed(BUILTIN_DETECTORS[rule["type"]]),
            ).resolve()
            for rule in rules
        ]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def text(self, text: str) -> str:
        """Scrub one string. Raises ``PIIDetectionError`` when a ``block`` rule matches, and
        ``PIIScrubTimeoutError`` when the rules run out of time."""
        with scrub_budget():
            for rule in self._rules:
                text, _ = rule.apply(text)
            return text

    def message(self, message: MessageT) -> MessageT:
        """A copy of the message with its text (and, for AI messages, tool-call arguments) scrubbed.

        The id is kept, so the copy replaces the original under ``add_messages``.
        """
        with scrub_budget():
            update: dict[str, Any] = {"content": self.value(message.content)}
            if isinstance(message, AIMessage) and message.tool_calls:
                update["tool_calls"] = [
                    {**call, "args": self.value(call["args"])} for call in message.tool_calls
                ]
            return message.model_copy(update=update)

    def value(self, value: Any) -> Any:
        """Scrub every text leaf of a JSON-like value, messages and commands included."""
        with scrub_budget():
            return self._value(value)

    async def avalue(self, value: Any) -> Any:
        """`value` from async code, off the event loop (`off_loop`)."""
        return await off_loop(self.value, value)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, BaseMessage):
            return self.message(value)
        if isinstance(value, Send):
            return Send(value.node, self._value(value.arg))
        if isinstance(value, Command):
            # A `goto` Send carries a node's input, written to the checkpoint like any other input;
            # node names are not text.
            goto = value.goto
            if isinstance(goto, Send):
                goto = self._value(goto)
            elif isinstance(goto, list | tuple):
                goto = type(goto)(self._value(t) if isinstance(t, Send) else t for t in goto)
            return dataclasses.replace(
                value, update=self._value(value.update), resume=self._value(value.resume), goto=goto
            )
        if isinstance(value, Mapping):
            return {
                key: item if key in _STRUCTURAL_KEYS and isinstance(item, str) else self._value(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self._value(item) for item in value)
        return value


class PIIGuardMiddleware(AgentMiddleware[Any, Any, Any]):
    """Scrubs what the model node and the tool node write, inside those nodes."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelCallResult:
        return self._scrub_response(handler(self._scrub_request(request)))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelCallResult:
        response = await handler(await off_loop(self._scrub_request, request))
        return await off_loop(self._scrub_response, response)

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
    ) -> ToolMessage | Command[Any]:
        return self._scrub_tool_result(handler(request))

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        result = await handler(request)
        return await off_loop(self._scrub_tool_result, result)

    def _scrub_request(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        # State is already clean when the boundary did its job; this also covers messages that reached
        # state some other way, so the provider never receives them raw.
        with scrub_budget():
            return request.override(messages=[self.redactor.message(m) for m in request.messages])

    def _scrub_response(self, response: ModelCallResult) -> ModelCallResult:
        if isinstance(response, AIMessage):
            return self.redactor.message(response)
        if isinstance(response, ExtendedModelResponse):
            return dataclasses.replace(
                response, model_response=self._scrub_model_response(response.model_response)
            )
        return self._scrub_model_response(response)

    def _scrub_model_response(self, response: ModelResponse[Any]) -> ModelResponse[Any]:
        with scrub_budget():
            return dataclasses.replace(response, result=[self.redactor.message(m) for m in response.result])

    def _scrub_tool_result(self, result: ToolMessage | Command[Any]) -> ToolMessage | Command[Any]:
        if isinstance(result, ToolMessage):
            return self.redactor.message(result)
        scrubbed: Command[Any] = self.redactor.value(result)
        return scrubbed


class PIISafeGraph(CompiledStateGraph[Any, Any, Any, Any]):
    """A compiled graph that scrubs its input before LangGraph checkpoints any of it.

    It is still a ``CompiledStateGraph`` (``copy``/``with_config`` keep the class), so the runtime
    loads it, injects its checkpointer and store, and streams it like any other graph. Every entry
    point funnels through ``stream``/``astream`` (``invoke``, ``ainvoke``), ``(a)stream_events`` or
    ``bulk_update_state``/``abulk_update_state`` (``update_state``), which is where scrubbing happens.
    """

    def __init__(self, *, redactor: Redactor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor

    @classmethod
    def wrap(cls, graph: CompiledStateGraph[Any, Any, Any, Any], redactor: Redactor) -> PIISafeGraph:
        attrs = {key: value for key, value in graph.__dict__.items() if key != "__orig_class__"}
        return cls(redactor=redactor, **attrs)

    def scrub_input(self, value: Any) -> Any:
        """The input (or command) of a run as this graph will store it. A runtime that keeps the
        request itself (a run's row, a queue message) calls this so that copy is no rawer than the
        checkpoint."""
        return self.redactor.value(value)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        return super().stream(self.redactor.value(input), config, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for chunk in super().astream(await self.redactor.avalue(input), config, **kwargs):
            yield chunk

    async def astream_events(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        # Its start event echoes the input before `astream` is reached.
        async for event in super().astream_events(await self.redactor.avalue(input), config, **kwargs):
            yield event

    def stream_events(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return super().stream_events(self.redactor.value(input), config, **kwargs)

    def bulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]
    ) -> RunnableConfig:
        return super().bulk_update_state(config, self._scrub_supersteps(supersteps))

    async def abulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]
    ) -> RunnableConfig:
        scrubbed = await off_loop(self._scrub_supersteps, supersteps)
        return await super().abulk_update_state(config, scrubbed)

    def _scrub_supersteps(self, supersteps: Sequence[Sequence[StateUpdate]]) -> list[list[StateUpdate]]:
        with scrub_budget():
            return [
                [update._replace(values=self.redactor.value(update.values)) for update in superstep]
                for superstep in supersteps
            ]
