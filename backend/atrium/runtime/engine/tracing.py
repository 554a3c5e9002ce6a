"""OpenTelemetry spans for a graph's model and tool calls, as a LangChain callback handler.

Each chat-model or LLM call becomes a `chat <model>` span and each tool call a `tool <name>` span,
children of the span that was current when the run started (the worker's Celery task span, which
continues the trace of the HTTP request that created the run). A call nested in another (a tool that
calls a model, a subagent) is a child of its caller's span. Only names, model ids, token counts and
errors are recorded: never prompts, messages, tool arguments or results, which may hold secrets or
personal data.

With no tracer provider installed (tracing off) the spans are non-recording and cost next to nothing.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

_tracer = trace.get_tracer("atrium.runtime.graph")


def tracing_active() -> bool:
    """Whether a tracer provider is installed (the process set up tracing)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


class GraphTracingHandler(BaseCallbackHandler):
    """One per run: keeps the open spans by LangChain run id."""

    raise_error = False
    run_inline = True

    def __init__(self, parent: otel_context.Context | None = None) -> None:
        self.parent = parent if parent is not None else otel_context.get_current()
        self.spans: dict[UUID, Span] = {}
        # Which LangChain run each run was started under, for runs that are not spans themselves
        # (chains, graph nodes): a model call inside a node of a tool still nests under the tool.
        self.parents: dict[UUID, UUID | None] = {}
        self.lock = threading.Lock()

    def _start(self, run_id: UUID, parent_run_id: UUID | None, name: str, attributes: dict[str, Any]) -> None:
        with self.lock:
            ancestor, span_parent = parent_run_id, None
            while ancestor is not None and span_parent is None:
                span_parent = self.spans.get(ancestor)
                ancestor = self.parents.get(ancestor)
            ctx = trace.set_span_in_context(span_parent, self.parent) if span_parent else self.parent
            self.spans[run_id] = _tracer.start_span(name, context=ctx, attributes=attributes)
            self.parents[run_id] = parent_run_id

    def _end(
        self, run_id: UUID, error: BaseException | None = None, attributes: dict[str, Any] | None = None
    ) -> None:
        with self.lock:
            span = self.spans.pop(run_id, None)
            self.parents.pop(run_id, None)
        if span is None:
            return
        for key, value in (attributes or {}).items():
            if value is not None:
                span.set_attribute(key, value)
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()

    # Runs that are not spans are remembered only for nesting.
    def on_chain_start(
        self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **_: Any
    ) -> None:
        with self.lock:
            self.parents[run_id] = parent_run_id

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **_: Any) -> None:
        with self.lock:
            self.parents.pop(run_id, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        with self.lock:
            self.parents.pop(run_id, None)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        self._model_start(serialized, run_id, parent_run_id, metadata)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        self._model_start(serialized, run_id, parent_run_id, metadata)

    def _model_start(
        self,
        serialized: dict[str, Any] | None,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: dict[str, Any] | None,
    ) -> None:
        metadata = metadata or {}
        model = str(metadata.get("ls_model_name") or (serialized or {}).get("name") or "model")
        attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model}
        if metadata.get("ls_provider"):
            attributes["gen_ai.system"] = str(metadata["ls_provider"])
        if metadata.get("langgraph_node"):
            attributes["langgraph.node"] = str(metadata["langgraph_node"])
        self._start(run_id, parent_run_id, f"chat {model}", attributes)

    def on_llm_end(self, response: Any, *, run_id: UUID, **_: Any) -> None:
        usage = _usage(response)
        self._end(
            run_id,
            attributes={
                "gen_ai.usage.input_tokens": usage.get("input_tokens"),
                "gen_ai.usage.output_tokens": usage.get("output_tokens"),
            },
        )

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id, error)

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **_: Any,
    ) -> None:
        name = str((serialized or {}).get("name") or "tool")
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
        self._start(run_id, parent_run_id, f"tool {name}", attributes)

    def on_tool_end(self, output: Any, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id, error)


def _usage(response: Any) -> dict[str, int]:
    """Token counts from an LLMResult: the message's `usage_metadata`, when the model reported one."""
    for generations in getattr(response, "generations", None) or []:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                return {k: int(v) for k, v in dict(usage).items() if isinstance(v, int)}
    return {}
