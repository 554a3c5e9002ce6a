"""`make image` / `make up` with GRAPHS=path/to/langgraph.json hand the project to the image build, with
a stand-in `docker` that records its calls and the project variables it sees (no Docker engine here)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "backend" / "atrium" / "runtime" / "tests" / "projects" / "template_app"
FAKE_DOCKER = """#!/bin/sh
echo "$* | dir=$ATRIUM_PROJECT_DIR graphs=$ATRIUM_PROJECT_GRAPHS" >> "$DOCKER_CALLS"
"""


def make(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = os.environ | {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "DOCKER_CALLS": str(calls),
        "ATRIUM_COMPOSE_ENV": str(tmp_path / "compose.env"),
    }
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, [c for c in calls.read_text().splitlines() if not c.startswith("compose version")]


def test_make_image_bakes_the_named_project_in(tmp_path: Path) -> None:
    relative = os.path.relpath(PROJECT / "langgraph.json", ROOT)
    done, calls = make(tmp_path, "image", f"GRAPHS={relative}", "IMAGE=registry.example/atrium:1")
    assert done.returncode == 0, done.stderr
    build = calls[-1].split(" | ")[0]
    assert build.startswith("build -f infra/docker/backend.Dockerfile -t registry.example/atrium:1 ")
    assert f"--build-context project={PROJECT}" in build  # made absolute, as docker needs no cwd
    assert "--build-arg ATRIUM_GRAPHS=/app/project/langgraph.json" in build


def test_make_image_without_a_project_serves_atriums_agents(tmp_path: Path) -> None:
    done, calls = make(tmp_path, "image")
    assert done.returncode == 0, done.stderr
    build = calls[-1].split(" | ")[0]
    assert "--build-context project=infra/docker/no-project" in build
    assert "--build-arg ATRIUM_GRAPHS=/app/agents/langgraph.json" in build


def test_make_up_builds_compose_image_with_the_project(tmp_path: Path) -> None:
    done, calls = make(tmp_path, "up", f"GRAPHS={PROJECT / 'langgraph.json'}")
    assert done.returncode == 0, done.stderr
    up = next(c for c in calls if " up -d --build" in c)
    # compose.yaml reads both for the build's additional context and ATRIUM_GRAPHS argument.
    assert up.endswith(f"dir={PROJECT} graphs=/app/project/langgraph.json")
