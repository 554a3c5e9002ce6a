"""infra/scripts/supervise.py, the supervisor `make dev` ends in, with stand-in programs that record
their pids: restarts with backoff, a stop that always completes, and no process outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import process_helpers
from process_helpers import SLEEPER, alive, pids, wait_for

ROOT = Path(__file__).resolve().parents[2]
started = process_helpers.started  # the fixture
SUPERVISE = ROOT / "infra" / "scripts" / "supervise.py"


def supervise(tmp_path: Path, started: list[subprocess.Popen[bytes]], *args: str) -> subprocess.Popen[bytes]:
    log = (tmp_path / "supervisor.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(SUPERVISE), "--tag", "dev", *args], stdout=log, stderr=subprocess.STDOUT
    )
    started.append(process)
    return process


def sleeper(tmp_path: Path, name: str) -> list[str]:
    return ["--", name, sys.executable, "-c", SLEEPER, str(tmp_path / f"{name}.pids")]


def test_a_program_that_dies_is_restarted_with_backoff_and_a_loud_line(tmp_path, started):
    supervisor = supervise(tmp_path, started, "--stable", "30", *sleeper(tmp_path, "worker"))
    worker = tmp_path / "worker.pids"
    wait_for(lambda: len(pids(worker)) == 1)

    os.kill(pids(worker)[0], signal.SIGKILL)
    wait_for(lambda: len(pids(worker)) == 2)
    os.kill(pids(worker)[1], signal.SIGKILL)
    wait_for(lambda: len(pids(worker)) == 3)

    log = (tmp_path / "supervisor.log").read_text()
    assert "[dev] worker exited with 137; restarting in 1s" in log
    assert "[dev] worker exited with 137; restarting in 2s" in log  # the second crash in a row waits longer
    assert alive(pids(worker)[2])
    assert supervisor.poll() is None


def test_two_sigterms_stop_every_program_and_run_on_exit_once(tmp_path, started):
    marker = tmp_path / "on-exit"
    # The web program ignores SIGTERM, so the stop takes the whole grace period: the second SIGTERM
    # arrives in the middle of it, where dev.sh's old trap (`shutdown; exit 0`) ended the script early.
    stubborn = f"import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); {SLEEPER}"
    web = ["--", "web", sys.executable, "-c", stubborn, str(tmp_path / "web.pids")]
    on_exit = f"echo stopped >> {marker}"
    args = ["--grace", "2", "--on-exit", on_exit, *web, *sleeper(tmp_path, "beat")]
    supervisor = supervise(tmp_path, started, *args)
    wait_for(lambda: pids(tmp_path / "web.pids") and pids(tmp_path / "beat.pids"))

    supervisor.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    supervisor.send_signal(signal.SIGTERM)

    assert supervisor.wait(timeout=15) == 0
    assert not alive(pids(tmp_path / "web.pids")[0])
    assert not alive(pids(tmp_path / "beat.pids")[0])
    assert marker.read_text() == "stopped\n"
    assert "web did not stop within 2s; killing it" in (tmp_path / "supervisor.log").read_text()


def test_a_sigkilled_supervisor_takes_its_programs_down(tmp_path, started):
    supervisor = supervise(tmp_path, started, *sleeper(tmp_path, "worker"), *sleeper(tmp_path, "beat"))
    wait_for(lambda: pids(tmp_path / "worker.pids") and pids(tmp_path / "beat.pids"))

    supervisor.kill()
    supervisor.wait()

    children = pids(tmp_path / "worker.pids") + pids(tmp_path / "beat.pids")
    wait_for(lambda: not any(alive(pid) for pid in children), timeout=5)


def test_the_supervisor_stops_everything_when_its_parent_is_sigkilled(tmp_path, started):
    """`make dev` killed with SIGKILL: the supervisor (exec'd by dev.sh) stops its programs and runs
    --on-exit (dev.sh's: stop Postgres and Redis) all the same."""
    marker = tmp_path / "on-exit"
    command = [sys.executable, str(SUPERVISE), "--on-exit", f"echo stopped >> {marker}"]
    command += sleeper(tmp_path, "worker")
    parent = subprocess.Popen(
        ["bash", "-c", '"$@" & echo $! > "$0"; wait', str(tmp_path / "sup.pid"), *command]
    )
    started.append(parent)
    wait_for(lambda: pids(tmp_path / "worker.pids"))
    supervisor = pids(tmp_path / "sup.pid")[0]

    parent.kill()
    parent.wait()

    wait_for(lambda: marker.exists() and not alive(supervisor), timeout=15)
    assert not alive(pids(tmp_path / "worker.pids")[0])
    assert marker.read_text() == "stopped\n"
