"""The worker container's entrypoint starts as root and becomes the worker's uid. What it starts (the
worker, and everything the worker starts) must not be able to become root again: a set-user-ID-root
program in the image, run by the worker's uid, would otherwise get root with the capabilities left in
the process's bounding set (all of them where the container was not started with `cap_drop: [ALL]`
and `no-new-privileges`, which compose sets but a `docker run` or another orchestrator may not).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the entrypoint drops from root; needs root")

WORKER = 10001
ENTRYPOINT = "atrium_agents.sandbox.entrypoint"
# How the entrypoint is started: as root with every capability (a plain `docker run --user 0`), and as
# compose starts it (only CHOWN, SETUID and SETGID, so no CAP_SETPCAP to empty the bounding set with).
STARTS = {
    "root": [],
    "compose": ["setpriv", "--bounding-set=-all,+chown,+setuid,+setgid", "--inh-caps=-all", "--"],
}


def _status(text: str) -> dict[str, str]:
    fields = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key: value.strip() for key, value in fields}


def _entrypoint(start: str, *command: str) -> dict[str, str]:
    env = {**os.environ, "ATRIUM_SANDBOX_CGROUP": "off"}  # this test is about privileges only
    done = subprocess.run(
        [*STARTS[start], sys.executable, "-m", ENTRYPOINT, "--user", f"{WORKER}:{WORKER}", "--", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return _status(done.stdout)


def test_the_command_has_no_capabilities_and_cannot_gain_any() -> None:
    # when the entrypoint, started as root, runs a command as the worker's uid
    status = _entrypoint("root", "cat", "/proc/self/status")

    # then it is that uid, holds no capability, and none can come back on an exec
    assert status["Uid"].split() == [str(WORKER)] * 4
    assert {key: int(status[key], 16) for key in ("CapPrm", "CapEff", "CapInh", "CapAmb", "CapBnd")} == {
        "CapPrm": 0,
        "CapEff": 0,
        "CapInh": 0,
        "CapAmb": 0,
        "CapBnd": 0,
    }
    assert status["NoNewPrivs"] == "1"


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A directory the worker's uid can enter (pytest's tmp_path is root's only)."""
    path = Path(tempfile.mkdtemp(prefix="atrium-entrypoint-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("start", sorted(STARTS))
def test_a_set_user_id_root_program_does_not_make_the_worker_root(start: str, reachable_dir: Path) -> None:
    # given a set-user-ID-root program the worker's uid can run (as one left in an image would be)
    program = reachable_dir / "cat"
    shutil.copy2(shutil.which("cat") or "/bin/cat", program)
    os.chown(program, 0, 0)
    program.chmod(0o755 | stat.S_ISUID)

    # when the command started by the entrypoint (the worker) runs it
    status = _entrypoint(start, str(program), "/proc/self/status")

    # then it stays the worker's uid, without capabilities
    assert status["Uid"].split() == [str(WORKER)] * 4
    assert int(status["CapEff"], 16) == 0
    assert status["NoNewPrivs"] == "1"
