"""The framework-free run engine: graph registry, run streaming (v1 and v2), state shaping, JSON and SSE.

Nothing here imports Django; the control plane, the HTTP endpoints and the worker call into it.
"""

from atrium.runtime.engine.collect import FinalState
from atrium.runtime.engine.events import RunStream, stream_run, stream_run_dual, stream_run_v1, stream_run_v2
from atrium.runtime.engine.graphs import (
    GraphLoadError,
    GraphNotFoundError,
    GraphRegistry,
    GraphSpec,
    default_assistant_id,
    drawable_graph,
    graph_schemas,
    import_variable,
    subgraph_schemas,
)
from atrium.runtime.engine.parts import RunOutcome
from atrium.runtime.engine.request import RunRequest, command_from_request
from atrium.runtime.engine.serde import dumps, error_payload
from atrium.runtime.engine.sse import HEARTBEAT, format_event
from atrium.runtime.engine.state import checkpoint_config, checkpoint_ref, empty_thread_state, thread_state
from atrium.runtime.engine.v1_events import RunEvent
from atrium.runtime.engine.v2_events import ProtocolEvent

__all__ = [
    "HEARTBEAT",
    "FinalState",
    "GraphLoadError",
    "GraphNotFoundError",
    "GraphRegistry",
    "GraphSpec",
    "ProtocolEvent",
    "RunEvent",
    "RunOutcome",
    "RunRequest",
    "RunStream",
    "checkpoint_config",
    "checkpoint_ref",
    "command_from_request",
    "default_assistant_id",
    "drawable_graph",
    "dumps",
    "empty_thread_state",
    "error_payload",
    "format_event",
    "graph_schemas",
    "import_variable",
    "stream_run",
    "stream_run_dual",
    "stream_run_v1",
    "stream_run_v2",
    "subgraph_schemas",
    "thread_state",
]
