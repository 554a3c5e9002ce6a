"""The graph registry: which graphs exist (from ``langgraph.json``) and how to get a runnable one.

The file is read the way the LangGraph CLI reads it, so any LangGraph project runs here unchanged:

* ``"graphs": {"id": "./path/to/file.py:variable"}``, ``{"id": "package.module:variable"}`` or
  ``{"id": {"path": "...", "description": "..."}}``; file paths are relative to the json's directory;
* ``"dependencies"`` and ``"env"`` are honoured by ``project_deps``: local packages and requirement
  strings come from the project's overlay (installed by the launchers), plain directories are put on
  ``sys.path``, and the ``env`` file or mapping is loaded before any graph is imported;
* the variable is a compiled graph, a ``StateGraph`` (compiled once), or a factory. A factory takes no
  argument, a ``RunnableConfig``, a ``ServerRuntime``, or both (told apart by annotation), may be
  async, and may return an (async) context manager. It is called for every ``get_graph`` because it may
  read ``thread_id``/``assistant_id`` from the config.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import importlib.util
import inspect
import json
import re
import sys
import threading
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeAlias, cast
from uuid import UUID, uuid5

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ensure_config
from langchain_core.utils.pydantic import create_model  # accepts the `__root__` field form used below
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore
from langgraph_sdk.runtime import AccessContext, ServerRuntime

from atrium.runtime.engine import project_deps
from atrium.runtime.engine.parts import CompiledGraph
from atrium.runtime.engine.project import (
    HttpSettings,
    ProjectConfigError,
    ProjectTTLs,
    StoreIndex,
    parse_http,
    parse_store_index,
    parse_ttls,
)

DEFAULT_GRAPHS_FILE = "agents/langgraph.json"

SYSTEM_ASSISTANT_NAMESPACE = UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
"""The namespace the Agent Server derives each graph's default ("system") assistant id from."""

GraphFactory: TypeAlias = Callable[..., Any]
GraphValue: TypeAlias = CompiledGraph | GraphFactory

# Keys the platform sets itself; a graph's config schema must not advertise them as user settings.
_RESERVED_CONFIGURABLE = (
    "__pregel_checkpointer",
    "__pregel_store",
    "checkpoint_id",
    "checkpoint_ns",
    "thread_id",
)


class GraphNotFoundError(LookupError):
    """No graph with this id is registered."""

    def __init__(self, graph_id: str, available: list[str]) -> None:
        self.graph_id = graph_id
        self.available = available
        super().__init__(f"Graph '{graph_id}' not found. Expected one of: {available}")


class GraphLoadError(Exception):
    """A graph could not be imported, found in its module, or built by its factory."""

    def __init__(self, graph_id: str, source: str, reason: str) -> None:
        self.graph_id = graph_id
        self.source = source
        self.reason = reason
        super().__init__(f"Could not load graph '{graph_id}' from '{source}': {reason}")


def default_assistant_id(graph_id: str) -> UUID:
    """The id of a graph's default assistant, the same as the Agent Server's (§0 ``assistant_id`` alias)."""
    return uuid5(SYSTEM_ASSISTANT_NAMESPACE, graph_id)


@dataclass(frozen=True, slots=True)
class GraphSpec:
    """One entry of ``graphs``: where a graph lives."""

    graph_id: str
    source: str
    """The entry as written, ``"./file.py:variable"`` or ``"module:variable"``; used in error messages."""
    variable: str
    path: Path | None = None
    module: str | None = None
    description: str | None = None


def _parse_spec(graph_id: str, entry: Any, base_dir: Path) -> GraphSpec:
    if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
        source, description = entry["path"], entry.get("description")
    elif isinstance(entry, str):
        source, description = entry, None
    else:
        raise GraphLoadError(
            graph_id, repr(entry), 'expected "path/to/file.py:variable" or {"path": ..., "description": ...}'
        )
    location, sep, variable = source.rpartition(":")
    if not sep or not location or not variable:
        raise GraphLoadError(graph_id, source, "expected 'module.path:variable' or './file.py:variable'")
    if "/" in location or "\\" in location or location.endswith(".py"):
        path = (base_dir / location).resolve()
        return GraphSpec(graph_id, source, variable, path=path, description=description)
    return GraphSpec(graph_id, source, variable, module=location, description=description)


def _module_name_for(path: Path) -> str:
    # Stable and unique per file, so re-loading the registry reuses the module instead of re-executing it.
    return "atrium_graph_" + re.sub(r"\W", "_", str(path.with_suffix("")))


def _import_module(spec: GraphSpec) -> ModuleType:
    if spec.module is not None:
        return importlib.import_module(spec.module)
    assert spec.path is not None
    name = _module_name_for(spec.path)
    if name in sys.modules:
        return sys.modules[name]
    if not spec.path.is_file():
        raise FileNotFoundError(f"no such file: {spec.path}")
    module_spec = importlib.util.spec_from_file_location(name, spec.path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"not a Python file: {spec.path}")
    module = importlib.util.module_from_spec(module_spec)
    # Registered before executing so dataclasses, pickling and relative lookups inside it work.
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def import_variable(source: str, base_dir: Path, *, what: str) -> Any:
    """The object a ``"./file.py:variable"`` or ``"module:variable"`` entry names (e.g. the ``auth``
    entry); raises ``GraphLoadError`` (naming ``what``) when it cannot be imported or is missing."""
    spec = _parse_spec(what, source, base_dir)
    try:
        module = _import_module(spec)
    except Exception as exc:
        raise GraphLoadError(what, source, f"{type(exc).__name__}: {exc}") from exc
    try:
        return getattr(module, spec.variable)
    except AttributeError:
        raise GraphLoadError(what, source, f"no variable '{spec.variable}'") from None


def _resolve_value(spec: GraphSpec, module: ModuleType) -> GraphValue:
    try:
        value = getattr(module, spec.variable)
    except AttributeError:
        graphs = [k for k, v in vars(module).items() if isinstance(v, Pregel | StateGraph)]
        hint = f"; graphs in that module: {graphs}" if graphs else ""
        raise GraphLoadError(spec.graph_id, spec.source, f"no variable '{spec.variable}'{hint}") from None
    if isinstance(value, StateGraph):
        return value.compile()
    if isinstance(value, Pregel) or callable(value):
        return cast(GraphValue, value)
    raise GraphLoadError(
        spec.graph_id,
        spec.source,
        f"'{spec.variable}' is a {type(value).__name__}, not a graph or graph factory",
    )


def _is_runtime_annotation(annotation: Any) -> bool:
    if annotation is ServerRuntime:
        return True
    origin = typing.get_origin(annotation)
    if origin is ServerRuntime:
        return True
    if origin is typing.Annotated:
        return _is_runtime_annotation(typing.get_args(annotation)[0])
    return False


def _factory_arguments(
    factory: GraphFactory, config: RunnableConfig, runtime: Callable[[], Any]
) -> dict[str, Any]:
    """Keyword arguments for a factory, from its signature, as the LangGraph CLI classifies them."""
    try:
        hash(factory)
    except TypeError:  # an unhashable callable object: classified on every call
        parameters = _factory_parameters(factory)
    else:
        parameters = _factory_parameters_cached(factory)
    return {name: (runtime() if rt else config) for name, rt in parameters}


def _factory_parameters(factory: GraphFactory) -> tuple[tuple[str, bool], ...]:
    """A factory's parameters and whether each asks for a ServerRuntime (else a RunnableConfig)."""
    params = list(inspect.signature(factory).parameters.values())
    try:
        hints = typing.get_type_hints(factory, localns={"ServerRuntime": ServerRuntime})
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        hints = {}
    is_runtime = [_is_runtime_annotation(hints.get(p.name, p.annotation)) for p in params]
    if len(params) > 2 or (len(params) == 2 and is_runtime.count(True) != 1):
        raise TypeError(
            "a graph factory takes nothing, a RunnableConfig, a ServerRuntime, or one of each; "
            f"got parameters {[p.name for p in params]}"
        )
    return tuple((p.name, rt) for p, rt in zip(params, is_runtime, strict=True))


# Resolving type hints is slow and a factory's signature never changes: once per factory, not per run.
_factory_parameters_cached = functools.lru_cache(maxsize=256)(_factory_parameters)


def _server_runtime(
    access_context: AccessContext, store: BaseStore | None, context: Any, config: RunnableConfig
) -> Any:
    # The concrete runtime classes are private to langgraph-sdk; only factories that ask for a
    # ServerRuntime get one, so a change there cannot break the other graphs.
    from langgraph_sdk.runtime import _ExecutionRuntime, _ReadRuntime

    if store is None:
        if access_context == "threads.create_run":
            raise TypeError("a factory taking a ServerRuntime needs a store to run; none was given")
        # Reading a graph's schemas (assistants, MCP tools) builds it without the org's store: the
        # factory gets an empty one, so nothing it reads there belongs to anyone.
        from langgraph.store.memory import InMemoryStore

        store = InMemoryStore()
    # The caller, as the run's graphs see it in `runtime.server_info.user` (None where the config
    # carries none, e.g. reading a graph's schemas).
    user = (config.get("configurable") or {}).get("langgraph_auth_user")
    user = user if hasattr(user, "identity") else None
    if access_context == "threads.create_run":
        return _ExecutionRuntime(access_context=access_context, store=store, context=context, user=user)
    return _ReadRuntime(access_context=access_context, store=store, user=user)


async def _materialize(produced: Any, exit_stack: contextlib.AsyncExitStack | None) -> Any:
    """Turn a factory's return value (graph, coroutine, or context manager) into the graph."""
    if inspect.isawaitable(produced):
        produced = await produced
    if hasattr(produced, "__aenter__") or hasattr(produced, "__enter__"):
        if exit_stack is None:
            raise TypeError(
                "the factory returns a context manager; pass exit_stack= to keep it open for the run"
            )
        if hasattr(produced, "__aenter__"):
            return await exit_stack.enter_async_context(produced)
        return exit_stack.enter_context(produced)
    return produced


class GraphRegistry:
    """The graphs of one ``langgraph.json``; imports each lazily, once."""

    def __init__(
        self,
        specs: Mapping[str, GraphSpec],
        *,
        auth_path: str | None = None,
        base_dir: Path | None = None,
        ttls: ProjectTTLs | None = None,
        http: HttpSettings | None = None,
        store_index: StoreIndex | None = None,
    ) -> None:
        self._specs = dict(specs)
        self.store_index = store_index
        """``store.index``: semantic search over the store, if configured (engine.project)."""
        self.ttls = ttls or ProjectTTLs()
        """``store.ttl`` and ``checkpointer.ttl`` (engine.project)."""
        self.http = http or HttpSettings()
        """``http``: the project's ASGI app, if any (engine.project)."""
        self._values: dict[str, GraphValue] = {}
        self._lock = threading.Lock()
        self.auth_path = auth_path
        """``"auth": {"path": "./auth.py:auth"}``: where the deployment's ``langgraph_sdk.Auth`` lives."""
        self.base_dir = base_dir or Path.cwd()

    @classmethod
    def from_file(
        cls, config_path: str | Path = DEFAULT_GRAPHS_FILE, *, deps_root: Path | None = None
    ) -> GraphRegistry:
        """Read a ``langgraph.json``, load its ``env`` and make its ``dependencies`` importable.

        ``deps_root`` is where the launchers installed project overlays (``project_deps``).
        """
        path = Path(config_path).resolve()
        try:
            config = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise GraphLoadError("*", str(path), f"cannot read the graphs file: {exc}") from exc
        if not isinstance(config, dict):
            raise GraphLoadError("*", str(path), "the graphs file is not a JSON object")
        base_dir = path.parent
        try:
            project_deps.activate(path, config, deps_root or project_deps.default_root())
        except project_deps.ProjectDepsError as exc:
            raise GraphLoadError("*", str(path), str(exc)) from exc
        graphs = config.get("graphs") or {}
        if not isinstance(graphs, Mapping):
            raise GraphLoadError("*", str(path), '"graphs" must be an object')
        auth = config.get("auth")
        auth_path = auth.get("path") if isinstance(auth, Mapping) else None
        if auth is not None and not isinstance(auth_path, str):
            # Present but unusable: kept as a path that cannot load, so authentication fails closed.
            auth_path = repr(auth)
        try:
            ttls, http, store_index = parse_ttls(config), parse_http(config), parse_store_index(config)
        except ProjectConfigError as exc:
            raise GraphLoadError("*", str(path), str(exc)) from exc
        return cls(
            {graph_id: _parse_spec(graph_id, entry, base_dir) for graph_id, entry in graphs.items()},
            auth_path=auth_path,
            base_dir=base_dir,
            ttls=ttls,
            http=http,
            store_index=store_index,
        )

    def graph_ids(self) -> list[str]:
        return list(self._specs)

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._specs

    def spec(self, graph_id: str) -> GraphSpec:
        try:
            return self._specs[graph_id]
        except KeyError:
            raise GraphNotFoundError(graph_id, sorted(self._specs)) from None

    def load(self, graph_id: str) -> GraphValue:
        """Import the graph (or factory) once; raise ``GraphLoadError`` naming the graph and its file."""
        spec = self.spec(graph_id)
        with self._lock:
            if graph_id not in self._values:
                try:
                    module = _import_module(spec)
                except GraphLoadError:
                    raise
                except Exception as exc:
                    raise GraphLoadError(graph_id, spec.source, f"{type(exc).__name__}: {exc}") from exc
                self._values[graph_id] = _resolve_value(spec, module)
            return self._values[graph_id]

    def load_all(self) -> None:
        """Import every graph now, so a broken one fails at start-up rather than at its first run."""
        for graph_id in self._specs:
            self.load(graph_id)

    async def get_graph(
        self,
        graph_id: str,
        config: RunnableConfig | None = None,
        *,
        checkpointer: BaseCheckpointSaver[Any] | None,
        store: BaseStore | None,
        access_context: AccessContext = "threads.create_run",
        context: Any = None,
        exit_stack: contextlib.AsyncExitStack | None = None,
    ) -> CompiledGraph:
        """A runnable graph bound to ``checkpointer`` and ``store``.

        The shared compiled graph is copied, never mutated, so concurrent runs with different savers
        cannot see each other's. A factory returning a context manager needs ``exit_stack``: it is
        entered there and so stays open for as long as the caller keeps the stack open.
        """
        value = self._values.get(graph_id)
        if value is None:
            value = await asyncio.to_thread(self.load, graph_id)
        source = self._specs[graph_id].source
        if not isinstance(value, Pregel):
            factory_config = ensure_config(config)
            try:
                kwargs = _factory_arguments(
                    value,
                    factory_config,
                    lambda: _server_runtime(access_context, store, context, factory_config),
                )
                value = await _materialize(value(**kwargs), exit_stack)
            except GraphLoadError:
                raise
            except Exception as exc:
                raise GraphLoadError(
                    graph_id, source, f"the factory failed: {type(exc).__name__}: {exc}"
                ) from exc
            if isinstance(value, StateGraph):
                value = value.compile()
            if not isinstance(value, Pregel):
                raise GraphLoadError(
                    graph_id, source, f"the factory returned a {type(value).__name__}, not a graph"
                )
        update: dict[str, Any] = {"checkpointer": checkpointer, "store": store}
        if value.name == "LangGraph":  # the default name: the Agent Server names the graph after its id
            update["name"] = graph_id
        return value.copy(update=update)


def _configurable_schema(graph: CompiledGraph) -> dict[str, Any]:
    """The JSON schema of ``config["configurable"]`` only, without the platform's reserved keys."""
    from pydantic import TypeAdapter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        config_model = graph.config_schema()
    fields = getattr(config_model, "model_fields", {})
    if "configurable" not in fields:
        return {}
    configurable_type: Any = fields["configurable"].annotation
    schema: dict[str, Any] = TypeAdapter(configurable_type).json_schema()
    for key in _RESERVED_CONFIGURABLE:
        schema.get("properties", {}).pop(key, None)
    config_type = getattr(graph, "config_type", None)
    if config_type is not None and hasattr(config_type, "__name__"):
        schema["title"] = config_type.__name__
    return schema


def _state_schema(graph: CompiledGraph) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in graph.stream_channels_list:
        update_type: Any = getattr(graph.channels[key], "UpdateType", Any)
        try:
            create_model(key, __root__=(update_type, None)).model_json_schema()
            fields[key] = (update_type, None)
        except Exception:  # a type pydantic cannot describe: keep the key, drop its type
            fields[key] = (Any, None)
    schema: dict[str, Any] = create_model(graph.get_name("State"), **fields).model_json_schema()
    return schema


def _or_none(build: Callable[[], Any]) -> Any:
    try:
        return build()
    except Exception:
        return None


def graph_schemas(graph: CompiledGraph) -> dict[str, Any]:
    """``{input_schema, output_schema, state_schema, config_schema, context_schema}``, null where absent.

    Each schema is computed independently: one the graph cannot describe does not hide the others.
    """
    return {
        "input_schema": _or_none(graph.get_input_jsonschema),
        "output_schema": _or_none(graph.get_output_jsonschema),
        "state_schema": _or_none(lambda: _state_schema(graph)),
        "config_schema": _or_none(lambda: _configurable_schema(graph)),
        "context_schema": _or_none(graph.get_context_jsonschema),
    }


async def drawable_graph(graph: CompiledGraph, *, xray: bool | int = False) -> dict[str, Any]:
    """The ``{nodes, edges}`` JSON of ``GET /assistants/{id}/graph``.

    Raises ``NotImplementedError`` for graphs that cannot be drawn (the API answers 422).
    """
    drawn: dict[str, Any] = (await graph.aget_graph(xray=xray)).to_json()
    for node in drawn.get("nodes", []):
        data = node.get("data")
        if isinstance(data, dict):
            # Node data ids are Python object ids: meaningless to clients and different per process.
            data.pop("id", None)
    return drawn


async def subgraph_schemas(
    graph: CompiledGraph, *, namespace: str | None = None, recurse: bool = False
) -> dict[str, dict[str, Any]]:
    """``{"<namespace>": schemas}`` for ``GET /assistants/{id}/subgraphs[/{namespace}]``."""
    # A remote subgraph (``RemoteGraph``) lacks local channels; its schemas come out null, not an error.
    return {
        ns: graph_schemas(cast(CompiledGraph, subgraph))
        async for ns, subgraph in graph.aget_subgraphs(namespace=namespace, recurse=recurse)
    }
