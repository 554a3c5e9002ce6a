"""Per-command cgroups: memory summed across a command's processes, a CPU quota, a process cap.

The real tests need a writable cgroup tree that `detect` finds: v1 (memory, cpu, pids) as on this
project's CI machine, or a delegated v2 one (the compose worker's, infra/tests/test_sandbox_in_image.py),
and skip elsewhere. The cgroup v2 code is also covered against a fake cgroup directory (plain files).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from atrium_agents.sandbox import BubblewrapProvider, BubblewrapSandbox
from atrium_agents.sandbox import cgroups as cgroups_module
from atrium_agents.sandbox.bubblewrap import EXIT_MEMORY_LIMIT
from atrium_agents.sandbox.cgroups import CgroupLimits, CgroupTree, cgroup_tree_from_env, detect, prepare_v2

from .conftest import TEST_LIMITS

MiB = 1 << 20


def _real_tree() -> CgroupTree | None:
    try:
        return detect(os.environ.get("ATRIUM_SANDBOX_CGROUP") or "auto")
    except OSError:
        return None


needs_cgroups = pytest.mark.skipif(
    _real_tree() is None, reason="needs a writable cgroup tree (v1 memory, cpu, pids or a delegated v2 one)"
)


@pytest.fixture
def tree() -> Iterator[CgroupTree]:
    """A parent cgroup of the test's own in each hierarchy, so the test sees only its commands'."""
    base = _real_tree()
    assert base is not None
    name = f"atrium-test-{secrets.token_hex(4)}"
    parents = {controller: parent / name for controller, parent in base.parents.items()}
    for parent in set(parents.values()):
        parent.mkdir()
    if base.version == 2:
        prepare_v2(parents["memory"])
    yield CgroupTree(base.version, parents)
    for parent in set(parents.values()):
        for child in parent.glob("atrium-sbx-*"):
            child.rmdir()
        parent.rmdir()


# The files that show a command's limits, per cgroup version: (controller, file, expected from limits).
_V1_FILES = {"cpu": "cpu.cfs_quota_us", "pids": "pids.max", "memory": "memory.limit_in_bytes"}
_V2_FILES = {"cpu": "cpu.max", "pids": "pids.max", "memory": "memory.max"}


def _sandbox(sandbox_root: str, tree: CgroupTree, **limits: object) -> BubblewrapSandbox:
    provider = BubblewrapProvider(
        sandbox_root, limits=dataclasses.replace(TEST_LIMITS, **limits), ttl_seconds=3600, cgroups=tree
    )
    return provider.get_or_create({"org_id": "acme", "thread_id": "t-cg"})


def _children(tree: CgroupTree) -> list[Path]:
    return [child for parent in set(tree.parents.values()) for child in parent.glob("atrium-sbx-*")]


# Three processes of 100 MiB each: every one is under RLIMIT_AS (256 MiB), together over the cap.
_THREE_HOGS = (
    "for i in 1 2 3; do python3 -c 'import time; b = b\"x\" * (100 << 20); time.sleep(3)' & done; wait; "
    "echo done"
)


@needs_cgroups
def test_processes_together_over_the_memory_cap_are_killed_with_a_line_naming_it(sandbox_root, tree):
    # given a 200 MiB cap on the command's memory in all
    sandbox = _sandbox(sandbox_root, tree, total_memory_bytes=200 * MiB)

    # when
    result = sandbox.execute(_THREE_HOGS)

    # then
    assert result.exit_code == EXIT_MEMORY_LIMIT
    assert "processes together used more than the 209715200 byte memory limit" in result.output
    assert "done" not in result.output
    assert _children(tree) == []
    assert sandbox.execute("echo still here").output == "still here\n"


@needs_cgroups
def test_the_same_processes_under_a_larger_cap_finish(sandbox_root, tree):
    # given room for all three
    sandbox = _sandbox(sandbox_root, tree, total_memory_bytes=512 * MiB)

    # when
    result = sandbox.execute(_THREE_HOGS)

    # then
    assert (result.exit_code, result.output) == (0, "done\n")
    assert _children(tree) == []


@needs_cgroups
def test_a_busy_command_runs_under_its_cpu_quota_and_process_cap(sandbox_root, tree):
    # given a tenth of a CPU
    sandbox = _sandbox(sandbox_root, tree, cpus=0.1)
    results = []
    runner = threading.Thread(
        target=lambda: results.append(sandbox.execute("python3 -c 'while True: pass'", timeout=15))
    )

    # when: the loop runs, its cgroup is read from outside
    runner.start()
    try:
        seen = _while_running(tree, runner)
    finally:
        runner.join()

    # then: the quota and the process cap were in force and the kernel throttled the loop
    assert seen["cpu"] == ("10000" if tree.version == 1 else "10000 100000")
    assert seen["pids"] == str(TEST_LIMITS.max_processes + cgroups_module.PIDS_OVERHEAD)
    assert seen["memory"] == str(TEST_LIMITS.total_memory_bytes)
    assert int(seen["nr_throttled"]) > 0
    assert results[0].exit_code == 137  # the test's SIGKILL, long before the 15 s wall limit
    assert _children(tree) == []


def _while_running(tree: CgroupTree, runner: threading.Thread) -> dict[str, str]:
    """Reads the command's cgroup files until the kernel reports throttling, then ends the command."""
    seen: dict[str, str] = {}
    files = _V1_FILES if tree.version == 1 else _V2_FILES
    while runner.is_alive():
        found = {child.parent: child for child in _children(tree)}
        cpu = found.get(tree.parents["cpu"])
        try:
            if cpu is not None:
                stat = dict(line.split() for line in (cpu / "cpu.stat").read_text().splitlines())
                seen["nr_throttled"] = stat["nr_throttled"]
                for controller, name in files.items():
                    seen[controller] = (found[tree.parents[controller]] / name).read_text().strip()
                if int(seen["nr_throttled"]) > 0:
                    for pid in (cpu / "cgroup.procs").read_text().split():
                        os.kill(int(pid), 9)
        except (OSError, KeyError):
            pass  # the command's cgroup came or went between two reads
        time.sleep(0.05)
    return seen


@needs_cgroups
def test_every_command_gets_a_fresh_cgroup_that_is_gone_afterwards(sandbox_root, tree):
    # given
    sandbox = _sandbox(sandbox_root, tree)

    # when: a command and a file transfer (which runs a helper command)
    first = sandbox.execute("echo hi")
    uploaded = sandbox.upload_files([("/workspace/a.txt", b"a")])

    # then
    assert first.output == "hi\n"
    assert uploaded[0].error is None
    assert _children(tree) == []


def test_no_writable_tree_keeps_the_rlimits_and_says_so_once(monkeypatch, caplog):
    # given
    monkeypatch.setenv("ATRIUM_SANDBOX_CGROUP", "off")
    monkeypatch.setattr(cgroups_module, "_warned_off", False)

    # when
    with caplog.at_level(logging.WARNING, logger="atrium_agents.sandbox.cgroups"):
        first, second = cgroup_tree_from_env(), cgroup_tree_from_env()

    # then
    assert (first, second) == (None, None)
    assert [r.getMessage() for r in caplog.records if "limits are off" in r.getMessage()] == [
        "sandbox cgroup limits are off (ATRIUM_SANDBOX_CGROUP=off, no writable cgroup tree): memory is "
        "capped per process (RLIMIT_AS), not summed across a command's processes, and CPU has no quota"
    ]


# -- cgroup v2, against a fake cgroup directory (plain files; the kernel's rules are not modelled) -----


def _fake_v2(tmp_path: Path, *, subtree: str = "") -> Path:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.subtree_control").write_text(subtree)
    (root / "cgroup.procs").write_text("")
    return root


def test_fake_v2_a_command_cgroup_gets_memory_cpu_and_pids_limits(tmp_path):
    # given
    tree = CgroupTree.v2(_fake_v2(tmp_path))

    # when
    cgroup = tree.create(CgroupLimits(memory_bytes=300 * MiB, cpus=0.5, pids=40))

    # then: one directory for every controller, with v2's files
    path = cgroup.dirs["memory"]
    assert set(cgroup.dirs.values()) == {path}
    assert path.parent == tmp_path / "cgroup"
    assert path.name.startswith("atrium-sbx-")
    files = {name: (path / name).read_text() for name in os.listdir(path)}
    assert files == {
        "memory.max": str(300 * MiB),
        "memory.swap.max": "0",
        "memory.oom.group": "1",
        "cpu.max": "50000 100000",
        "pids.max": "40",
    }
    assert cgroup.wrap(["bwrap", "x"], exit_code_on_failure=126) == [
        "/bin/sh", "-c", f"echo $$ > {path}/cgroup.procs || exit 126; exec \"$@\"", "sh", "bwrap", "x",
    ]  # fmt: skip


def test_fake_v2_oom_kills_are_read_from_memory_events_and_kill_uses_cgroup_kill(tmp_path):
    # given
    cgroup = CgroupTree.v2(_fake_v2(tmp_path)).create(CgroupLimits(memory_bytes=MiB, cpus=None, pids=8))
    path = cgroup.dirs["memory"]
    before = cgroup.oom_kills()
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 1\n")
    (path / "cgroup.kill").write_text("")

    # when
    cgroup.kill()

    # then
    assert (before, cgroup.oom_kills()) == (0, 2)
    assert (path / "cgroup.kill").read_text() == "1"
    assert not (path / "cpu.max").exists()


def test_fake_v2_preparing_a_tree_enables_the_controllers_for_children(tmp_path):
    # given
    root = _fake_v2(tmp_path)

    # when
    prepare_v2(root)

    # then
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert not (root / "atrium-worker").exists()


def test_fake_v2_a_tree_without_the_memory_controller_is_refused(tmp_path):
    # given
    root = _fake_v2(tmp_path)
    (root / "cgroup.controllers").write_text("cpu pids\n")

    # when / then
    with pytest.raises(OSError, match="memory"):
        prepare_v2(root)
    assert (root / "cgroup.subtree_control").read_text() == ""


def test_an_explicit_v2_path_is_used_as_the_tree(tmp_path, monkeypatch):
    # given
    root = _fake_v2(tmp_path, subtree="cpu memory pids")
    monkeypatch.setenv("ATRIUM_SANDBOX_CGROUP", str(root))

    # when
    tree = cgroup_tree_from_env()

    # then
    assert tree == CgroupTree.v2(root)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_fake_v2_the_entrypoint_hands_the_container_cgroup_to_the_worker_uid(tmp_path):
    # given a container's cgroup holding its first process
    root = _fake_v2(tmp_path)
    (root / "cgroup.procs").write_text("1\n")

    # when
    tree = cgroups_module.delegate_v2(root, 10001, 10001)

    # then: the process is in a leaf, the tree has the controllers and belongs to the worker's uid
    assert tree == root / "atrium"
    assert (tree / "worker" / "cgroup.procs").read_text() == "1"
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert (tree / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    owners = {path.name: (path.stat().st_uid, path.stat().st_gid) for path in (tree, tree / "worker")}
    assert owners == {"atrium": (10001, 10001), "worker": (10001, 10001)}
    assert (tree / "cgroup.subtree_control").stat().st_uid == 10001
    assert root.stat().st_uid == os.geteuid()  # the container's own cgroup stays root's


@needs_cgroups
def test_empty_command_cgroups_left_by_a_killed_worker_are_removed_and_busy_ones_kept(tree):
    # given a command cgroup left empty, and one whose command still runs
    left = tree.create(CgroupLimits(memory_bytes=64 * MiB, cpus=None, pids=8))
    busy = tree.create(CgroupLimits(memory_bytes=64 * MiB, cpus=None, pids=8))
    sleeper = subprocess.Popen(busy.wrap(["sleep", "30"], exit_code_on_failure=126))
    try:
        for _ in range(100):
            if busy.pids():
                break
            time.sleep(0.02)

        # when
        removed = tree.remove_stale(min_age_seconds=0)

        # then
        assert sorted(removed) == sorted(str(path) for path in dict.fromkeys(left.dirs.values()))
        assert all(path.is_dir() for path in busy.dirs.values())
    finally:
        sleeper.kill()
        sleeper.wait()
        busy.remove()
    assert _children(tree) == []
