"""The graph registry reads ``langgraph.json`` as the LangGraph CLI does."""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from atrium.runtime.engine.graphs import (
    GraphLoadError,
    GraphNotFoundError,
    GraphRegistry,
    default_assistant_id,
    drawable_graph,
    graph_schemas,
    subgraph_schemas,
)

FIXTURES = Path(__file__).parent / "fixtures" / "langgraph.json"

GRAPH_MODULE = """
from typing_extensions import TypedDict
from langgraph.graph import START, StateGraph


class State(TypedDict):
    n: int


def bump(state: State) -> State:
    return {"n": state["n"] + 1}


builder = StateGraph(State)
builder.add_node("bump", bump)
builder.add_edge(START, "bump")
compiled = builder.compile()
not_a_graph = 42
"""


def write_project(tmp_path: Path, graphs: dict[str, Any], module: str = GRAPH_MODULE, **extra: Any) -> Path:
    (tmp_path / "agent.py").write_text(textwrap.dedent(module))
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": graphs, **extra}))
    return config


async def get(registry: GraphRegistry, graph_id: str, **kwargs: Any) -> Any:
    return await registry.get_graph(
        graph_id, {}, checkpointer=InMemorySaver(), store=InMemoryStore(), **kwargs
    )


def test_lists_graph_ids_in_file_order() -> None:
    registry = GraphRegistry.from_file(FIXTURES)

    assert registry.graph_ids() == ["simple", "approval", "nested", "failing", "chat", "agent"]


def test_dict_entries_keep_their_description() -> None:
    registry = GraphRegistry.from_file(FIXTURES)

    assert registry.spec("failing").description == "Always fails"
    assert registry.spec("simple").description is None
    assert registry.spec("simple").path == (FIXTURES.parent / "graphs.py").resolve()


def test_default_assistant_id_matches_the_agent_server() -> None:
    assert default_assistant_id("agent") == UUID("fe096781-5601-53d2-b2f6-0d3403f7e9ca")
    assert default_assistant_id("simple") == UUID("5e0f6b46-d00f-5af4-87dc-ea2105ff526d")


async def test_get_graph_attaches_savers_to_a_copy(tmp_path: Path) -> None:
    registry = GraphRegistry.from_file(write_project(tmp_path, {"g": "./agent.py:compiled"}))
    saver, store = InMemorySaver(), InMemoryStore()

    graph = await registry.get_graph("g", {}, checkpointer=saver, store=store)

    assert graph.checkpointer is saver
    assert graph.store is store
    assert graph.name == "g"
    shared = registry.load("g")
    assert shared is not graph
    assert getattr(shared, "checkpointer", None) is None


async def test_state_graph_variables_are_compiled(tmp_path: Path) -> None:
    registry = GraphRegistry.from_file(write_project(tmp_path, {"g": "./agent.py:builder"}))

    graph = await get(registry, "g")

    assert await graph.ainvoke({"n": 1}, {"configurable": {"thread_id": "t"}}) == {"n": 2}


async def test_module_paths_resolve_through_dependencies(tmp_path: Path) -> None:
    package = tmp_path / "src" / "mypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "graphs_mod.py").write_text(textwrap.dedent(GRAPH_MODULE))
    config = write_project(tmp_path, {"g": "mypkg.graphs_mod:compiled"}, dependencies=["./src"])

    registry = GraphRegistry.from_file(config)
    graph = await get(registry, "g")

    assert str((tmp_path / "src").resolve()) in sys.path
    assert graph.name == "g"


@pytest.mark.parametrize(
    ("factory", "expected_n"),
    [
        ("def make():\n    return compiled\n", 2),
        (
            "def make(config):\n    assert config['configurable']['thread_id'] == 't1'\n    return builder\n",
            2,
        ),
        ("async def make(config):\n    return compiled\n", 2),
    ],
)
async def test_factories_are_called_per_get_graph(tmp_path: Path, factory: str, expected_n: int) -> None:
    registry = GraphRegistry.from_file(
        write_project(tmp_path, {"g": "./agent.py:make"}, GRAPH_MODULE + factory)
    )

    graph = await registry.get_graph(
        "g", {"configurable": {"thread_id": "t1"}}, checkpointer=InMemorySaver(), store=InMemoryStore()
    )

    assert (await graph.ainvoke({"n": 1}, {"configurable": {"thread_id": "t1"}}))["n"] == expected_n


async def test_context_manager_factories_stay_open_on_the_exit_stack(tmp_path: Path) -> None:
    factory = textwrap.dedent(
        """
        import contextlib
        EVENTS = []

        @contextlib.asynccontextmanager
        async def make(config):
            EVENTS.append("open")
            yield compiled
            EVENTS.append("close")
        """
    )
    registry = GraphRegistry.from_file(
        write_project(tmp_path, {"g": "./agent.py:make"}, GRAPH_MODULE + factory)
    )
    events = sys.modules[registry.load("g").__module__].EVENTS

    async with contextlib.AsyncExitStack() as stack:
        graph = await get(registry, "g", exit_stack=stack)
        assert events == ["open"]

    assert graph.name == "g"
    assert events == ["open", "close"]


async def test_context_manager_factory_without_exit_stack_is_a_load_error(tmp_path: Path) -> None:
    factory = "import contextlib\n@contextlib.contextmanager\ndef make():\n    yield compiled\n"
    registry = GraphRegistry.from_file(
        write_project(tmp_path, {"g": "./agent.py:make"}, GRAPH_MODULE + factory)
    )

    with pytest.raises(GraphLoadError, match="exit_stack"):
        await get(registry, "g")


async def test_runtime_factories_get_a_server_runtime(tmp_path: Path) -> None:
    factory = textwrap.dedent(
        """
        from langgraph_sdk.runtime import ServerRuntime
        SEEN = []

        def make(config, runtime: ServerRuntime):
            SEEN.append((runtime.access_context, runtime.execution_runtime is not None))
            return compiled
        """
    )
    registry = GraphRegistry.from_file(
        write_project(tmp_path, {"g": "./agent.py:make"}, GRAPH_MODULE + factory)
    )

    await get(registry, "g")
    await get(registry, "g", access_context="assistants.read")

    assert registry.load("g").__globals__["SEEN"] == [
        ("threads.create_run", True),
        ("assistants.read", False),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("./missing.py:graph", "no such file"),
        ("./agent.py:nope", "no variable 'nope'; graphs in that module: \\['builder', 'compiled'\\]"),
        ("./agent.py:not_a_graph", "'not_a_graph' is a int, not a graph or graph factory"),
        ("no_colon_here", "expected 'module.path:variable'"),
        ("./broken.py:graph", "ZeroDivisionError: division by zero"),
    ],
)
def test_load_errors_name_the_graph_and_its_source(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "broken.py").write_text("1 / 0\n")
    config = write_project(tmp_path, {"g": entry})

    with pytest.raises(GraphLoadError, match=message) as error:
        GraphRegistry.from_file(config).load("g")

    assert error.value.graph_id == "g"
    assert error.value.source == entry
    assert str(error.value).startswith(f"Could not load graph 'g' from '{entry}'")


async def test_factory_failure_is_a_load_error(tmp_path: Path) -> None:
    factory = "def make():\n    raise RuntimeError('no credentials')\n"
    registry = GraphRegistry.from_file(
        write_project(tmp_path, {"g": "./agent.py:make"}, GRAPH_MODULE + factory)
    )

    with pytest.raises(GraphLoadError, match="the factory failed: RuntimeError: no credentials"):
        await get(registry, "g")


def test_unknown_graph_is_not_found() -> None:
    with pytest.raises(GraphNotFoundError, match="Graph 'nope' not found"):
        GraphRegistry.from_file(FIXTURES).load("nope")


def test_unreadable_file_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(GraphLoadError, match="cannot read the graphs file"):
        GraphRegistry.from_file(tmp_path / "missing.json")


async def test_schemas_have_every_key_and_null_where_absent() -> None:
    graph = await get(GraphRegistry.from_file(FIXTURES), "simple")

    schemas = graph_schemas(graph)

    assert list(schemas) == [
        "input_schema",
        "output_schema",
        "state_schema",
        "config_schema",
        "context_schema",
    ]
    assert schemas["input_schema"]["properties"] == {
        "steps": {"items": {"type": "string"}, "title": "Steps", "type": "array"}
    }
    assert schemas["state_schema"]["title"] == "simple_state"
    assert schemas["state_schema"]["properties"]["steps"]["type"] == "array"
    assert schemas["context_schema"] is None


async def test_drawable_graph_lists_nodes_and_edges_without_object_ids() -> None:
    graph = await get(GraphRegistry.from_file(FIXTURES), "simple")

    drawn = await drawable_graph(graph)

    assert [n["id"] for n in drawn["nodes"]] == ["__start__", "first", "second", "third", "__end__"]
    assert all("id" not in (n.get("data") or {}) for n in drawn["nodes"] if isinstance(n.get("data"), dict))
    assert [(e["source"], e["target"]) for e in drawn["edges"]] == [
        ("__start__", "first"),
        ("first", "second"),
        ("second", "third"),
        ("third", "__end__"),
    ]


async def test_subgraph_schemas_are_keyed_by_namespace(tmp_path: Path) -> None:
    module = GRAPH_MODULE + textwrap.dedent(
        """
        outer_builder = StateGraph(State)
        outer_builder.add_node("child", compiled)
        outer_builder.add_edge(START, "child")
        outer = outer_builder.compile()
        """
    )
    registry = GraphRegistry.from_file(write_project(tmp_path, {"g": "./agent.py:outer"}, module))
    graph = await get(registry, "g")

    subgraphs = await subgraph_schemas(graph)

    assert list(subgraphs) == ["child"]
    assert subgraphs["child"]["input_schema"]["properties"] == {"n": {"title": "N", "type": "integer"}}
