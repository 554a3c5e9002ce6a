"""Limits stop the sandbox's code, and only it: the worker calling `execute` never sees an exception."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest

from atrium_agents.sandbox import BubblewrapSandbox, Limits
from atrium_agents.sandbox.bubblewrap import (
    EXIT_DISK_LIMIT,
    EXIT_OUTPUT_LIMIT,
    EXIT_SANDBOX_ERROR,
    EXIT_TIMEOUT,
)

# `_sandbox_processes` looks at the machine's processes for a marker of the test's own command (other
# suites run sandboxes at the same time in `make test`); under pytest-xdist this file's
# tests run on one worker (make test: --dist loadgroup), or one test would see another's.
pytestmark = pytest.mark.xdist_group("sandbox-limits")


def test_a_memory_hog_fails_inside_the_sandbox(sandbox: BubblewrapSandbox):
    # when: 1 GiB against a 256 MiB limit
    result = sandbox.execute("python3 -c 'b = bytearray(1 << 30)'")

    # then
    assert result.exit_code == 1
    assert "MemoryError" in result.output


def test_a_busy_loop_is_killed_at_the_cpu_limit(sandbox: BubblewrapSandbox):
    # when
    result = sandbox.execute("python3 -c 'while True: pass'")

    # then: SIGXCPU (exit 128 + 24) from the 2 CPU-second limit, not the 10 s wall limit (124)
    assert result.exit_code == 152
    assert "CPU time limit of 2s exceeded" in result.output


def test_a_command_over_its_wall_time_is_killed_with_everything_it_started(sandbox: BubblewrapSandbox):
    # when: a background child that would outlive its shell (the limit leaves a loaded machine time to
    # start the sandbox and print the first line)
    marker = _marker()
    result = sandbox.execute(f"sleep {marker} & echo started; sleep {marker}", timeout=3)

    # then
    assert result.exit_code == EXIT_TIMEOUT
    assert result.output.startswith("started\n")
    assert "killed after the 3s time limit" in result.output
    assert _sandbox_processes(marker) == []


def test_a_fork_bomb_is_contained_and_the_host_stays_responsive(sandbox: BubblewrapSandbox):
    # when
    bomb = f"bomb{_marker().replace('.', '')}"
    result = sandbox.execute(f"{bomb}() {{ {bomb} | {bomb} & }}; {bomb}; sleep 2; echo survived", timeout=4)

    # then: the process limit holds it, the wall limit ends it, nothing is left behind
    assert result.exit_code in (0, EXIT_TIMEOUT)
    assert "Resource temporarily unavailable" in result.output or "fork" in result.output
    assert _sandbox_processes(bomb) == []
    assert subprocess.run(["true"], check=False, timeout=5).returncode == 0
    assert sandbox.execute("echo ok").output == "ok\n"


def test_endless_output_is_cut_off(sandbox: BubblewrapSandbox):
    # when
    result = sandbox.execute("yes")

    # then
    assert result.exit_code == EXIT_OUTPUT_LIMIT
    assert result.truncated is True
    assert "output exceeded 64000 bytes" in result.output
    assert len(result.output) < 65_000


def test_a_file_cannot_grow_past_the_file_size_limit(sandbox: BubblewrapSandbox):
    # when: 16 MiB against an 8 MiB limit
    result = sandbox.execute("dd if=/dev/zero of=big bs=1M count=16")

    # then
    assert result.exit_code == 153
    assert "a file grew past the 8388608 byte limit" in result.output
    assert (sandbox.workspace_dir / "big").stat().st_size <= 8 << 20


def test_the_worker_survives_a_crashing_sandbox(sandbox: BubblewrapSandbox):
    # when: sandboxed code aborts, or its shell is killed
    aborted = sandbox.execute("python3 -c 'import os; os.abort()'")
    killed = sandbox.execute("kill -9 $$; echo unreachable")

    # then: errors come back as results, and the sandbox is still usable
    assert aborted.exit_code == 134
    assert killed.exit_code == 137
    assert "unreachable" not in killed.output
    assert sandbox.execute("echo still here").output == "still here\n"


def test_a_broken_installation_is_an_error_result_not_an_exception(tmp_path: Path):
    # given a sandbox whose bwrap binary is gone
    (tmp_path / "meta.json").write_text("{}")
    broken = BubblewrapSandbox(tmp_path, limits=Limits(), bwrap="/nonexistent/bwrap", drop_to_uid=False)

    # when
    result = broken.execute("echo hi")

    # then
    assert result.exit_code == EXIT_SANDBOX_ERROR
    assert result.output.startswith("[sandbox] could not run the command:")


def _marker() -> str:
    """A number no other command on the machine uses: `sleep` takes it as seconds (60 and a bit)."""
    return f"60.{secrets.randbelow(10**9):09d}"


def _sandbox_processes(marker: str) -> list[str]:
    """Processes still running as the sandbox's host uid (65534 under a root worker, else the worker's
    own) whose command line carries `marker`, after a short grace. Read from /proc: the image has no
    `ps`."""
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    for _ in range(20):
        leftovers = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                status = (entry / "status").read_text()
                args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
            if real_uid == uid and marker in args:
                leftovers.append(f"{entry.name} {args}")
        if not leftovers:
            return []
        time.sleep(0.1)
    return leftovers


def test_filling_the_disk_kills_the_command_and_deleting_files_recovers(sandbox: BubblewrapSandbox):
    # when: a writer that would go on until the wall limit, were disk use not watched
    result = sandbox.execute("i=0; while true; do head -c 1048576 /dev/zero > /tmp/f$i; i=$((i+1)); done")
    cleanup = sandbox.execute("rm -f /tmp/f* && echo cleaned")

    # then
    assert result.exit_code == EXIT_DISK_LIMIT
    assert "grew past the 16777216 byte disk limit" in result.output
    assert cleanup.output == "cleaned\n"
    assert sandbox.disk_usage() < 1 << 20
    assert sandbox.execute("head -c 1048576 /dev/zero > /workspace/ok && echo fits").output == "fits\n"
