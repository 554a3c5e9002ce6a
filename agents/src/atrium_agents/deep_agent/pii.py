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
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain.agents.middleware._redaction import RedactionRule, ResolvedRedactionRule
from langchain.agents.middleware.types import ExtendedModelResponse
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, StateUpdate

from atrium_agents.deep_agent.context import PIIRule

MessageT = TypeVar("MessageT", bound=BaseMessage)
# What a model call handler may return (langchain's ModelCallResult, with any structured response).
ModelCallResult = ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]

# Structural strings that are not text: rewriting them would break the message, not protect anyone.
_STRUCTURAL_KEYS = frozenset({"id", "type", "role", "name", "tool_call_id", "subagent_type", "status"})


class Redactor:
    """Applies an assistant's PII rules, in order, to text and to anything that holds text."""

    def __init__(self, rules: Sequence[PIIRule]) -> None:
        self._rules: list[ResolvedRedactionRule] = [
            RedactionRule(
                pii_type=rule["type"], strategy=rule.get("strategy", "redact"), detector=rule.get("pattern")
            ).resolve()
            for rule in rules
        ]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def text(self, text: str) -> str:
        """Scrub one string. Raises ``PIIDetectionError`` when a ``block`` rule matches."""
        for rule in self._rules:
            text, _ = rule.apply(text)
        return text

    def message(self, message: MessageT) -> MessageT:
        """A copy of the message with its text (and, for AI messages, tool-call arguments) scrubbed.

        The id is kept, so the copy replaces the original under ``add_messages``.
        """
        update: dict[str, Any] = {"content": self.value(message.content)}
        if isinstance(message, AIMessage) and message.tool_calls:
            update["tool_calls"] = [{**call, "args": self.value(call["args"])} for call in message.tool_calls]
        return message.model_copy(update=update)

    def value(self, value: Any) -> Any:
        """Scrub every text leaf of a JSON-like value, messages and commands included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, BaseMessage):
            return self.message(value)
        if isinstance(value, Command):
            return dataclasses.replace(
                value, update=self.value(value.update), resume=self.value(value.resume)
            )
        if isinstance(value, Mapping):
            return {
                key: item if key in _STRUCTURAL_KEYS and isinstance(item, str) else self.value(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.value(item) for item in value)
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
        return self._scrub_response(await handler(self._scrub_request(request)))

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
    ) -> ToolMessage | Command[Any]:
        return self._scrub_tool_result(handler(request))

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        return self._scrub_tool_result(await handler(request))

    def _scrub_request(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        # State is already clean when the boundary did its job; this also covers messages that reached
        # state some other way, so the provider never receives them raw.
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
        async for chunk in super().astream(self.redactor.value(input), config, **kwargs):
            yield chunk

    def astream_events(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        # Its start event echoes the input before `astream` is reached.
        return super().astream_events(self.redactor.value(input), config, **kwargs)

    def stream_events(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return super().stream_events(self.redactor.value(input), config, **kwargs)

    def bulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]
    ) -> RunnableConfig:
        return super().bulk_update_state(config, self._scrub_supersteps(supersteps))

    async def abulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]
    ) -> RunnableConfig:
        return await super().abulk_update_state(config, self._scrub_supersteps(supersteps))

    def _scrub_supersteps(self, supersteps: Sequence[Sequence[StateUpdate]]) -> list[list[StateUpdate]]:
        return [
            [update._replace(values=self.redactor.value(update.values)) for update in superstep]
            for superstep in supersteps
        ]
