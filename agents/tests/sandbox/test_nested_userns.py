"""Sandboxed code may not create user namespaces of its own.

In a container the worker runs as uid 10001 and owns the cgroup tree it was handed, so each command's
cgroup (its `memory.max`, `pids.max`, `cpu.max`) belongs to 10001, the uid bubblewrap maps the sandbox's
user to. A command that created a nested user namespace got every capability in it, could unshare a
mount and a cgroup namespace and mount cgroup2 there: its own command cgroup, whose limit files it
owns. Unless the host mounted cgroup2 with `nsdelegate`, it could then raise its own limits. bwrap's
`--disable-userns` closes the first step.
"""

from __future__ import annotations

import shutil

import pytest

from atrium_agents.sandbox import BubblewrapSandbox
from atrium_agents.sandbox.bubblewrap import bwrap_supports

BWRAP = shutil.which("bwrap") or "bwrap"

pytestmark = pytest.mark.skipif(
    not bwrap_supports(BWRAP, "--disable-userns"), reason="this bubblewrap has no --disable-userns (0.8.0+)"
)


def test_sandboxed_code_cannot_make_a_user_namespace_to_mount_its_cgroup(sandbox: BubblewrapSandbox) -> None:
    # when sandboxed code becomes root of a user namespace of its own and mounts its cgroup there
    result = sandbox.execute(
        "unshare --user --map-root-user --mount --cgroup "
        "sh -c 'mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && echo MOUNTED && ls /tmp/cg'"
    )

    # then the namespace is refused, and nothing was mounted
    assert result.exit_code != 0, result.output
    assert "MOUNTED" not in result.output
    assert "cgroup.procs" not in result.output


def test_python_in_the_sandbox_cannot_unshare_a_user_namespace(sandbox: BubblewrapSandbox) -> None:
    # when sandboxed Python asks the kernel directly
    result = sandbox.execute("python3 -c 'import os; os.unshare(os.CLONE_NEWUSER); print(\"UNSHARED\")'")

    # then it is refused
    assert result.exit_code != 0, result.output
    assert "UNSHARED" not in result.output


def test_the_worker_knows_whether_its_bubblewrap_can_refuse_them() -> None:
    assert bwrap_supports(BWRAP, "--disable-userns") is True
    assert bwrap_supports(BWRAP, "--no-such-option") is False
