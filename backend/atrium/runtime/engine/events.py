"""Run a graph once and turn what it streams into protocol events.

One pass over ``graph.astream(..., stream_mode=[...], subgraphs=...)`` feeds every translator: the
run-scoped SSE events of §2 (``V1Translator``), the thread-scoped v2 events of §V2.4 (``V2Translator``),
or both at once for a worker that logs both protocols from one execution.

When a client asks for the ``events`` mode the pass goes through ``astream_events(version="v2")``
instead: callback events (``on_chat_model_stream``, ``on_tool_start``, ...) exist only there. That is
still one pass, because ``astream_events`` wraps ``astream``: the root graph's ``on_chain_stream``
events carry the very ``(namespace, mode, chunk)`` items ``astream`` would have produced, and are
unwrapped back into graph parts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from typing import Any, Generic, Protocol, TypeVar, cast
from uuid import UUID

import langgraph.version
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphDrained

from atrium.runtime.engine.collect import FinalState, V2Summary
from atrium.runtime.engine.parts import INTERRUPT_KEY, CompiledGraph, GraphPart, RunOutcome
from atrium.runtime.engine.request import RunRequest
from atrium.runtime.engine.v1_events import RunEvent, V1Translator
from atrium.runtime.engine.v2_events import ProtocolEvent, V2Translator

E = TypeVar("E", covariant=True)

# What a v2 run streams (§V2.3 ``run.start`` step 5); ``lifecycle`` is synthesized by the translator.
V2_GRAPH_MODES = ("values", "updates", "messages", "custom", "tools", "tasks", "checkpoints")


class Translator(Protocol[E]):
    def start(self) -> Iterator[E]: ...

    def feed(self, part: GraphPart) -> Iterator[E]: ...

    def finish(self, outcome: RunOutcome) -> Iterator[E]: ...


def graph_modes_for(request: RunRequest) -> list[str]:
    """The LangGraph stream modes behind a request's protocol modes.

    ``messages-tuple`` and legacy ``messages`` are both LangGraph's ``messages``; ``events`` is not a
    LangGraph mode. ``updates`` is always streamed: it is how a breakpoint shows (``{"__interrupt__":
    []}``) and so how the outcome tells ``interrupted`` from ``success``.
    """
    modes = {"messages" if mode == "messages-tuple" else mode for mode in request.stream_mode} - {"events"}
    return sorted(modes | {"updates"})


def run_config(request: RunRequest) -> RunnableConfig:
    """The request config plus what every run carries: its ids and attempt (§3 server-added config)."""
    config = request.config
    configurable = dict(config.get("configurable") or {})
    if request.thread_id is not None:
        configurable.setdefault("thread_id", request.thread_id)
    configurable.setdefault("run_id", request.run_id)
    metadata = dict(config.get("metadata") or {})
    metadata.setdefault("run_attempt", request.attempt)
    metadata.setdefault("langgraph_version", langgraph.version.__version__)
    prepared = RunnableConfig(**{**config, "configurable": configurable, "metadata": metadata})
    if request.attempt == 1:
        # The root trace run is the API run; a retry gets a fresh trace id so the two stay apart.
        prepared["run_id"] = UUID(str(request.run_id))
    return prepared


def _public_config(config: Any) -> Any:
    if not isinstance(config, dict) or not isinstance(config.get("configurable"), dict):
        return config
    configurable = {k: v for k, v in config["configurable"].items() if not str(k).startswith("__")}
    return {**config, "configurable": configurable}


def _without_private_config(part: GraphPart) -> GraphPart:
    """Checkpoint events (``checkpoints`` and ``debug`` modes) carry the run's config; its ``__`` keys
    are private to the run (``__atrium_secrets`` holds the workspace's secrets) and never streamed."""
    if part.mode not in ("checkpoints", "debug") or not isinstance(part.chunk, dict):
        return part
    chunk = part.chunk
    if part.mode == "debug" and isinstance(chunk.get("payload"), dict):
        payload = chunk["payload"]
        cleaned = {
            **payload,
            **{k: _public_config(payload[k]) for k in ("config", "parent_config") if k in payload},
        }
        return GraphPart(part.namespace, part.mode, {**chunk, "payload": cleaned})
    cleaned = {**chunk, **{k: _public_config(chunk[k]) for k in ("config", "parent_config") if k in chunk}}
    return GraphPart(part.namespace, part.mode, cleaned)


def _unwrap_root_stream(chunk: Any, subgraphs: bool) -> GraphPart:
    if subgraphs:
        namespace, mode, data = chunk
        return GraphPart(tuple(namespace), mode, data)
    mode, data = chunk
    return GraphPart((), mode, data)


async def _graph_parts(
    graph: CompiledGraph, request: RunRequest, *, modes: Iterable[str], subgraphs: bool, with_events: bool
) -> AsyncGenerator[GraphPart, None]:
    kwargs: dict[str, Any] = {
        "context": request.context,
        "stream_mode": list(modes),
        "subgraphs": subgraphs,
        "interrupt_before": request.interrupt_before,
        "interrupt_after": request.interrupt_after,
        "control": request.control,
    }
    if request.durability is not None:
        kwargs["durability"] = request.durability
    config = run_config(request)
    if not with_events:
        stream_items = cast(AsyncGenerator[Any, None], graph.astream(request.graph_input(), config, **kwargs))
        async with contextlib.aclosing(stream_items) as stream:
            async for item in stream:
                if subgraphs:
                    namespace, mode, chunk = item
                    yield _without_private_config(GraphPart(tuple(namespace), mode, chunk))
                else:
                    mode, chunk = item
                    yield _without_private_config(GraphPart((), mode, chunk))
        return
    root_run_id: str | None = None
    events = cast(
        AsyncGenerator[dict[str, Any], None],
        graph.astream_events(request.graph_input(), config, version="v2", **kwargs),
    )
    async with contextlib.aclosing(events) as stream:
        async for event in stream:
            root_run_id = root_run_id or event["run_id"]  # the first event is the root graph's start
            if "langsmith:hidden" in (event.get("tags") or ()):
                continue
            if event["event"] == "on_chain_stream" and event["run_id"] == root_run_id:
                yield _without_private_config(_unwrap_root_stream(event["data"]["chunk"], subgraphs))
            else:
                yield GraphPart((), "events", event)


def _is_interrupt(part: GraphPart) -> bool:
    return (
        not part.namespace
        and part.mode in ("updates", "values")
        and isinstance(part.chunk, dict)
        and INTERRUPT_KEY in part.chunk
    )


class RunStream(Generic[E]):
    """One execution of a run; iterate it (once) for its events, then read ``outcome``.

    Graph failures do not raise: they end the stream with the protocol's error events, and
    ``outcome.error`` holds the exception (already set when the error event is yielded) so the caller
    can tell a retryable infrastructure failure from a graph bug. Cancellation propagates.
    """

    def __init__(
        self,
        graph: CompiledGraph,
        request: RunRequest,
        translators: list[Translator[E]],
        *,
        modes: Iterable[str],
        subgraphs: bool,
    ) -> None:
        self._graph = graph
        self._request = request
        self._translators = translators
        self._modes = list(modes)
        self._subgraphs = subgraphs
        self._started = False
        self.outcome: RunOutcome | None = None

    def __aiter__(self) -> AsyncIterator[E]:
        if self._started:
            raise RuntimeError("a RunStream runs its graph once; build a new one to run again")
        self._started = True
        return self._events()

    async def _events(self) -> AsyncIterator[E]:
        for translator in self._translators:
            for event in translator.start():
                yield event
        parts = _graph_parts(
            self._graph,
            self._request,
            modes=self._modes,
            subgraphs=self._subgraphs,
            with_events="events" in self._request.stream_mode,
        )
        interrupted = False
        outcome: RunOutcome
        async with contextlib.aclosing(parts):
            while True:
                # Only the graph's own failures are caught here, never the consumer's: the events are
                # yielded outside the ``try``. Cancellation (a BaseException) passes through.
                try:
                    part = await anext(parts)
                except StopAsyncIteration:
                    outcome = RunOutcome("interrupted" if interrupted else "success")
                    break
                except GraphDrained:
                    outcome = RunOutcome("drained")
                    break
                except Exception as exc:
                    outcome = RunOutcome("error", exc)
                    break
                interrupted = interrupted or _is_interrupt(part)
                for translator in self._translators:
                    for event in translator.feed(part):
                        yield event
        self.outcome = outcome
        for translator in self._translators:
            for event in translator.finish(outcome):
                yield event


def stream_run(graph: CompiledGraph, request: RunRequest) -> RunStream[RunEvent]:
    """The run-scoped SSE events (§2.2) of a run: ``metadata`` first, then the requested modes."""
    return RunStream(
        graph,
        request,
        [V1Translator(request)],
        modes=graph_modes_for(request),
        subgraphs=request.stream_subgraphs,
    )


def stream_run_v2(graph: CompiledGraph, request: RunRequest) -> RunStream[ProtocolEvent]:
    """The v2 events (§V2.4.5) of a run; ``request.stream_mode`` is ignored, v2 runs stream everything."""
    return RunStream(graph, request, [V2Translator(graph.get_name())], modes=V2_GRAPH_MODES, subgraphs=True)


def stream_run_dual(graph: CompiledGraph, request: RunRequest) -> RunStream[RunEvent | ProtocolEvent]:
    """Both protocols from one execution, interleaved in production order (§V2.8 one event log)."""
    translators: list[Translator[RunEvent | ProtocolEvent]] = [
        V1Translator(request),
        V2Translator(graph.get_name()),
    ]
    modes = sorted(set(graph_modes_for(request)) | set(V2_GRAPH_MODES))
    return RunStream(graph, request, translators, modes=modes, subgraphs=True)


def stream_run_v1(
    graph: CompiledGraph, request: RunRequest, final: FinalState
) -> RunStream[RunEvent | ProtocolEvent]:
    """v1 events for the requesting client, a v2 summary for thread observers, and the final state.

    ``values`` is always streamed from the graph (``final`` needs it); the v1 translator still sends
    only the modes the client asked for.
    """
    translators: list[Translator[RunEvent | ProtocolEvent]] = [
        V1Translator(request),
        final,
        V2Summary(graph.get_name(), final),
    ]
    modes = sorted(set(graph_modes_for(request)) | {"values"})
    return RunStream(graph, request, translators, modes=modes, subgraphs=request.stream_subgraphs)
