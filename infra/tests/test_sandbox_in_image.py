"""The sandbox suite (agents/tests/sandbox) inside the backend image that compose and the Helm chart
run, started the way compose starts the worker: its entrypoint, user, capabilities, cgroup namespace
and security options, all read from compose.yaml.

Opt-in, since it builds the image (minutes): `make test-sandbox-image`. Skipped when no Docker engine
answers (this project's CI machine has only the client).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "atrium-backend:sandbox-test-base"
TEST_IMAGE = "atrium-backend:sandbox-test"
OPT_IN = "ATRIUM_TEST_SANDBOX_IMAGE"


@functools.cache
def _no_engine() -> str | None:
    """Why there is no Docker engine to use, or None."""
    if shutil.which("docker") is None:
        return "no docker client"
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer `docker info` within 20 s"
    if done.returncode != 0:
        return f"no Docker engine answers `docker info` ({done.stderr.strip().splitlines()[-1:]})"
    return None


def suite_command(image: str) -> list[str]:
    """`docker run` of the sandbox suite with the compose worker's privileges, and no others."""
    worker = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["worker"]
    args = ["docker", "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--user", worker["user"]]
    args += ["--cgroupns", worker["cgroup"]]
    args += [f"--cap-drop={cap}" for cap in worker["cap_drop"]]
    args += [f"--cap-add={cap}" for cap in worker["cap_add"]]
    args += [f"--security-opt={option}" for option in worker["security_opt"]]
    args += ["--memory", "2g", "--pids-limit", str(worker["pids_limit"])]
    entrypoint = worker["entrypoint"]
    args += ["--entrypoint", entrypoint[0], image, *entrypoint[1:]]
    return [*args, "python", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/sandbox"]


def test_the_suite_runs_with_exactly_the_compose_worker_privileges():
    command = suite_command("img")
    assert command[command.index("--entrypoint") :] == [
        "--entrypoint", "python", "img", "-m", "atrium_agents.sandbox.entrypoint", "--user", "10001:10001",
        "--", "python", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/sandbox",
    ]  # fmt: skip
    options = [arg for arg in command if arg.startswith(("--security-opt", "--cap-", "--privileged"))]
    assert options == [
        "--cap-drop=ALL", "--cap-add=CHOWN", "--cap-add=SETUID", "--cap-add=SETGID",
        "--security-opt=no-new-privileges:true", "--security-opt=seccomp=unconfined",
        "--security-opt=apparmor=unconfined", "--security-opt=systempaths=unconfined",
        "--security-opt=writable-cgroups=true",
    ]  # fmt: skip
    assert command[command.index("--cgroupns") + 1] == "private"
    assert command[command.index("--user") + 1] == "0:0"


def _why_not() -> str | None:
    if (engine := _no_engine()) is not None:
        return f"needs a Docker engine: {engine}"
    if not os.environ.get(OPT_IN):
        return f"opt-in: {OPT_IN}=1 (`make test-sandbox-image`), since it builds the image"
    return None


@pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))
def test_the_sandbox_suite_passes_inside_the_image_the_chart_uses():
    # given the image, as `make image` builds it, plus pytest and the tests
    subprocess.run(["make", "-s", "-C", str(ROOT), "image", f"IMAGE={BASE_IMAGE}"], check=True, timeout=3600)
    subprocess.run(
        ["docker", "build", "-f", "infra/docker/sandbox-test.Dockerfile", "--build-arg", f"BASE={BASE_IMAGE}",
         "-t", TEST_IMAGE, "."],
        cwd=ROOT, check=True, timeout=1800,
    )  # fmt: skip

    # when
    command = suite_command(TEST_IMAGE)
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)

    # then: it passed, bubblewrap worked, and the cgroup tests ran on the worker's delegated cgroup
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    skipped = re.findall(r"^SKIPPED .*$", output, flags=re.MULTILINE)
    assert not [line for line in skipped if "bubblewrap" in line or "cgroup tree" in line], skipped
    assert "sandbox cgroups not delegated" not in output
