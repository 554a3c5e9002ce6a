"""The graphs file loads the way the LangGraph CLI loads it: path:variable, relative to the file."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

from langgraph.graph.state import CompiledStateGraph
from langgraph.pregel import Pregel

AGENTS_DIR = Path(__file__).resolve().parents[1]


def load(entry: str) -> object:
    path, variable = entry.split(":")
    spec = importlib.util.spec_from_file_location(f"_graph_{variable}", AGENTS_DIR / path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, variable)


def test_every_graph_is_a_graph_or_a_factory_taking_a_config():
    # given
    graphs = json.loads((AGENTS_DIR / "langgraph.json").read_text())["graphs"]

    # when
    loaded = {graph_id: load(entry) for graph_id, entry in graphs.items()}

    # then
    assert sorted(loaded) == ["agent", "echo"]
    assert isinstance(loaded["echo"], Pregel)
    factory = loaded["agent"]
    assert callable(factory)
    assert list(inspect.signature(factory).parameters) == ["config"]
    assert inspect.iscoroutinefunction(factory)
    built = asyncio.run(factory({"configurable": {"model": "offline"}}))
    assert isinstance(built, CompiledStateGraph)
    assert built.checkpointer is None
    assert built.store is None


def test_graph_modules_never_import_django():
    # given: a fresh interpreter, as a worker that has not loaded the control plane
    code = (
        "import sys, atrium_agents.deep_agent.graph, atrium_agents.echo.graph, atrium_agents.models;"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )

    # when
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    # then
    assert output.strip() == "[]"
