"""project_deps: how a langgraph.json's `dependencies` are classified and fingerprinted, and `env` loaded.

Installing through uv and running the result on a live stack is in
backend/tests/security/test_projdeps_template_project.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from atrium.runtime.engine import project_deps

REPO_DIR = Path(__file__).resolve().parents[5]


def _project(tmp_path: Path, **config: object) -> Path:
    config.setdefault("graphs", {})
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def clean_env() -> Iterator[None]:
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


def test_atriums_own_agents_project_needs_no_install() -> None:
    plan = project_deps.plan(REPO_DIR / "agents" / "langgraph.json")
    assert not plan.needs_install
    assert plan.path_dirs == ((REPO_DIR / "agents").resolve(),)


def test_entries_are_classified_as_langgraph_build_does(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[project]\nname = "my-pkg"\nversion = "1"\n')
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "requirements.txt").write_text("humanize\n")
    config = _project(tmp_path, dependencies=["./pkg", "./plain", "humanize>=4"])
    plan = project_deps.plan(config)
    base = tmp_path.resolve()
    assert plan.packages == (base / "pkg",)
    assert plan.path_dirs == (base / "plain",)
    assert plan.requirement_files == (base / "plain" / "requirements.txt",)
    assert plan.requirements == ("humanize>=4",)
    assert plan.needs_install


def test_the_fingerprint_follows_the_packaging_files_not_the_code(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "1"\ndependencies = []\n')
    (tmp_path / "graph.py").write_text("x = 1\n")
    config = _project(tmp_path, dependencies=["."])
    first = project_deps.plan(config).fingerprint
    (tmp_path / "graph.py").write_text("x = 2\n")  # editable: code changes need no reinstall
    assert project_deps.plan(config).fingerprint == first
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "1"\ndependencies = ["humanize"]\n'
    )
    assert project_deps.plan(config).fingerprint != first


def test_a_missing_local_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(project_deps.ProjectDepsError, match=r"'\./nowhere' is not a directory"):
        project_deps.plan(_project(tmp_path, dependencies=["./nowhere"]))


def test_env_file_values_are_loaded_but_the_operator_wins(tmp_path: Path, clean_env: None) -> None:
    (tmp_path / ".env").write_text('PD_FROM_FILE="file value"\nPD_SET_BY_OPERATOR=file\n')
    os.environ["PD_SET_BY_OPERATOR"] = "operator"
    os.environ.pop("PD_FROM_FILE", None)
    config = {"env": ".env"}
    assert project_deps.load_env(tmp_path / "langgraph.json", config) == ["PD_FROM_FILE"]
    assert os.environ["PD_FROM_FILE"] == "file value"
    assert os.environ["PD_SET_BY_OPERATOR"] == "operator"


def test_env_mapping_values_are_loaded_as_strings(tmp_path: Path, clean_env: None) -> None:
    os.environ.pop("PD_MAPPED", None)
    project_deps.load_env(tmp_path / "langgraph.json", {"env": {"PD_MAPPED": 3}})
    assert os.environ["PD_MAPPED"] == "3"
    with pytest.raises(project_deps.ProjectDepsError, match='"env" must be'):
        project_deps.load_env(tmp_path / "langgraph.json", {"env": ["PD_X=1"]})


def test_requirements_atrium_already_meets_need_no_install(tmp_path: Path) -> None:
    plan = project_deps.plan(_project(tmp_path, dependencies=["langgraph>=0.2", "langchain-openai"]))
    assert not plan.needs_install
    plan = project_deps.plan(_project(tmp_path, dependencies=["langgraph>=0.2", "langgraph<0.1", "humanize"]))
    assert plan.requirements == ("langgraph<0.1", "humanize")


def test_the_failed_package_is_named_when_uv_wraps_its_message_across_lines() -> None:
    # as uv prints it without a terminal (under pytest-xdist, for one)
    output = (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because atrium-no-such-package-zq7 was not found in the package\n"
        "         registry and you require atrium-no-such-package-zq7, we can conclude\n"
        "         that your requirements are unsatisfiable.\n"
    )

    assert project_deps._failed_package(output) == "atrium-no-such-package-zq7"
