"""A LangGraph project in the canonical template layout runs unchanged (issue 20: dependencies and env).

The project (`atrium/runtime/tests/projects/template_app`) is a `src/agent` package with its own
`pyproject.toml` (`dependencies: ["."]`) needing `humanize`, a package Atrium's lock does not have; its
graph imports `agent.helpers`, its dataclass context reads defaults from the environment (the
react-agent template's `__post_init__`), which the `.env` named by `langgraph.json` fills, and its
model (`init_chat_model`, ChatOpenAI) is served by a fake OpenAI-compatible provider on loopback.
Before, the web and worker only put the project directory on `sys.path`: the graph failed with
`ModuleNotFoundError: No module named 'agent'` and `env` was ignored.

The dependencies are installed the way every launcher does (`infra/scripts/project-deps.sh`), into an
overlay cached in the temp dir between test runs (keyed by the project's fingerprint), then a real web
and worker are started on that project and the graph is run through the official Python SDK.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atrium.runtime.engine import GraphLoadError, GraphRegistry
from atrium.runtime.tests.conformance.fake_provider import REPLY as FAKE_REPLY
from atrium.runtime.tests.conformance.fake_provider import FakeProvider
from atrium.runtime.tests.live_stack import XDIST_INDEX, LiveStack, running_stack
from atrium.runtime.tests.project_install import (
    CACHE,
    PROJECTS_DIR,
    REPO_DIR,
    install_project,
    project_env,
)

PROJECT = PROJECTS_DIR / "template_app" / "langgraph.json"
REDIS_DB = 18 + XDIST_INDEX
# One stack per module and xdist worker, on a Redis database of its own (see live_stack.REDIS_DB).
pytestmark = pytest.mark.xdist_group("template-project-stack")


@pytest.fixture(scope="module")
def installed() -> Path:
    result = install_project(PROJECT)
    assert result.returncode == 0, result.stderr
    return CACHE


@pytest.fixture(scope="module")
def project_stack(
    installed: Path,
    fake_provider: FakeProvider,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveStack]:
    env = {
        "ATRIUM_PROJECT_DEPS_DIR": str(installed),
        # Set by the operator: wins over the project's .env.
        "TEMPLATE_OPERATOR_WINS": "from the operator",
        # The model's host (the project's ChatOpenAI reaches the fake provider); its key comes from .env.
        "OPENAI_BASE_URL": fake_provider.url,
        **{name: "" for name in ("TEMPLATE_GREETING", "MODEL", "OPENAI_API_KEY")},
    }
    with running_stack(
        name="project-stack",
        graphs=PROJECT,
        redis_db=REDIS_DB,
        env=env,
        django_db_blocker=django_db_blocker,
        tmp_path_factory=tmp_path_factory,
        concurrency=4,
    ) as stack:
        yield stack


def test_the_template_project_runs_through_the_sdk_with_its_package_deps_and_env(
    project_stack: LiveStack, fake_provider: FakeProvider
) -> None:
    client = project_stack.sync_client("editor", timeout=120)
    assistants = client.assistants.search(graph_id="agent")
    assert [a["graph_id"] for a in assistants] == ["agent"], project_stack.logs()
    seen = len(fake_provider.requests)
    result = client.runs.wait(None, "agent", input={"changeme": "hi"})
    assert isinstance(result, dict), project_stack.logs()
    # .env's value (nothing set it before), the operator's over .env's, `agent.helpers`, `humanize`,
    # and the model named by .env's MODEL through the real init_chat_model / ChatOpenAI path.
    assert result["changeme"] == (
        f"Hello from .env | from the operator | 1.0 MB | 1,234,567 | hi | {FAKE_REPLY}"
    ), project_stack.logs()
    call = fake_provider.requests[seen]
    assert call["body"]["model"] == "gpt-4o-mini"
    assert call["headers"]["authorization"] == "Bearer sk-template-app-dotenv-key"
    schema = client.assistants.get_schemas(assistants[0]["assistant_id"])["context_schema"]
    assert schema is not None
    assert set(schema["properties"]) == {"model", "template_greeting", "template_operator_wins"}


def test_an_unchanged_project_installs_nothing_the_second_time(installed: Path) -> None:
    overlays = sorted(p for p in installed.iterdir() if not p.name.startswith("."))
    stamps = {p: (p / "complete.json").stat().st_mtime_ns for p in overlays if (p / "complete.json").exists()}
    assert stamps, "the first install left no overlay"
    # What `make dev` runs before it (install.sh): an exact sync of the lock, which removes anything
    # installed by hand into Atrium's environment, cannot touch the overlay.
    sync = subprocess.run(
        ["uv", "sync", "--frozen", "--quiet"],
        cwd=REPO_DIR,
        env=project_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    again = install_project(PROJECT)
    assert again.returncode == 0, again.stderr
    assert "dependencies up to date" in again.stderr
    assert "installing" not in again.stderr
    assert sorted(p for p in installed.iterdir() if not p.name.startswith(".")) == overlays
    assert {p: (p / "complete.json").stat().st_mtime_ns for p in stamps} == stamps


def _project_with(tmp_path: Path, dependencies: list[str]) -> Path:
    tmp_path.mkdir()
    (tmp_path / "graph.py").write_text(
        "from langgraph.graph import StateGraph\nfrom typing_extensions import TypedDict\n"
        "class S(TypedDict):\n    x: int\n"
        "graph = StateGraph(S).add_node('n', lambda s: s).add_edge('__start__', 'n').compile()\n"
    )
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"dependencies": dependencies, "graphs": {"g": "./graph.py:graph"}}))
    return config


def test_a_missing_package_fails_naming_the_project_and_the_package(tmp_path: Path) -> None:
    root = tmp_path / "overlays"
    config = _project_with(tmp_path / "broken", [".", "atrium-no-such-package-zq7"])
    result = install_project(config, root)
    assert result.returncode != 0
    assert str(config) in result.stderr
    assert "package 'atrium-no-such-package-zq7'" in result.stderr
    # Nothing half-installed is left for a process to pick up.
    assert not [p for p in root.iterdir() if not p.name.startswith(".")]
    # And a process started on it anyway refuses with the same kind of message, not a ModuleNotFoundError.
    with pytest.raises(GraphLoadError, match="not installed"):
        GraphRegistry.from_file(config, deps_root=root)


def test_a_version_atrium_does_not_run_fails_naming_the_package_and_atriums_version(tmp_path: Path) -> None:
    root = tmp_path / "overlays"
    config = _project_with(tmp_path / "old", ["langgraph<0.1"])
    result = install_project(config, root)
    assert result.returncode != 0
    assert f"Project {config}: package 'langgraph'" in result.stderr
    assert "Atrium runs langgraph " in result.stderr
    assert not [p for p in root.iterdir() if not p.name.startswith(".")]
