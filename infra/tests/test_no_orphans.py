"""No process of `make test`, `make bench*` or the live stack outlives its parent, even one killed with
SIGKILL: the shell helpers of infra/scripts/lib.sh and the live stack's spawner, with stand-in programs
that record their pids."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import process_helpers
from process_helpers import SLEEPER, alive, pids, wait_for

ROOT = Path(__file__).resolve().parents[2]
started = process_helpers.started  # the fixture
# A script written the way test.sh, e2e.sh and the bench scripts are: it dies with its parent, starts a
# server in the background and a step (through `uv run`, as pytest is) in the foreground, and leaves
# its cleanup (stopping Postgres and Redis, there) to a guard.
SCRIPT = f"""
source {ROOT}/infra/scripts/lib.sh
die_with_parent "$@"
echo $$ > "$1/script.pid"
cleanup_guard "echo cleaned >> $1/cleaned"
(exec setpriv --pdeathsig KILL -- setsid {sys.executable} -c "{SLEEPER}" "$1/server.pids") &
cd {ROOT} && guarded uv run --frozen --quiet python -c "{SLEEPER}" "$1/step.pids"
"""


def run_script(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    script = tmp_path / "script.sh"
    script.write_text(SCRIPT)
    # Its parent is a shell that waits for it, as make does.
    parent = subprocess.Popen(["bash", "-c", 'bash "$0" "$1"; true', str(script), str(tmp_path)])
    started.append(parent)
    wait_for(lambda: pids(tmp_path / "server.pids") and pids(tmp_path / "step.pids"), timeout=30)
    return parent


def assert_all_gone(tmp_path: Path) -> None:
    everything = [
        *pids(tmp_path / "script.pid"),
        *pids(tmp_path / "server.pids"),
        *pids(tmp_path / "step.pids"),
    ]
    wait_for(lambda: not any(alive(pid) for pid in everything), timeout=15)
    cleaned = tmp_path / "cleaned"
    # The guard's `echo >>` creates the file before it writes the line: wait for the whole line.
    wait_for(lambda: cleaned.exists() and cleaned.read_text().endswith("\n"), timeout=15)
    assert cleaned.read_text() == "cleaned\n"


def test_a_script_killed_with_sigkill_leaves_nothing_running_and_still_cleans_up(tmp_path, started):
    run_script(tmp_path, started)

    os.kill(pids(tmp_path / "script.pid")[0], signal.SIGKILL)

    assert_all_gone(tmp_path)


def test_a_script_whose_parent_is_killed_with_sigkill_dies_with_everything_it_started(tmp_path, started):
    parent = run_script(tmp_path, started)

    parent.kill()
    parent.wait()

    assert_all_gone(tmp_path)


def test_the_live_stack_processes_die_with_a_killed_test_process(tmp_path, started):
    """pytest killed with SIGKILL (a CI timeout, a closed terminal): its uvicorn and Celery worker go."""
    code = (
        "import sys, time; from pathlib import Path;"
        "from atrium.runtime.tests.live_stack import _start;"
        f"_start('web', [sys.executable, '-c', {SLEEPER!r}, sys.argv[1]], {{}}, Path(sys.argv[2]));"
        "time.sleep(600)"
    )
    backend = ROOT / "backend"
    test_process = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "web.pids"), str(tmp_path)], cwd=backend
    )
    started.append(test_process)
    wait_for(lambda: pids(tmp_path / "web.pids"), timeout=30)

    test_process.kill()
    test_process.wait()

    wait_for(lambda: not alive(pids(tmp_path / "web.pids")[0]), timeout=10)
