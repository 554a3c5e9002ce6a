"""A cgroup per sandbox command: memory summed across its processes, a CPU quota and a process cap.

``RLIMIT_AS`` caps each process; a command that starts many processes could still use all the worker's
memory together. Where the worker may create cgroups, every command runs in its own one
(``atrium-sbx-<random>``), with ``memory.max``/``memory.limit_in_bytes`` (no swap), a CPU quota of
``cpus`` and ``pids.max``; the cgroup is killed and removed when the command ends.

Which tree: ``$ATRIUM_SANDBOX_CGROUP`` is ``auto`` (default), ``off`` or the path of a delegated
cgroup v2 directory. ``auto`` takes

* cgroup v2: the worker's own cgroup when it is the root of a private cgroup namespace (a container
  with ``cgroup: private`` and a writable ``/sys/fs/cgroup``) or owned by the worker's non-root uid
  (systemd's ``Delegate=yes``), and has the memory, cpu and pids controllers;
* else cgroup v1: the worker's own cgroups in writable memory, cpu and pids hierarchies.

In v2 a cgroup holding processes cannot give controllers to children ("no internal processes"), so
preparing a tree moves the processes already in it to a leaf, ``atrium-worker``, first. Without a tree
the rlimits remain, and `cgroup_tree_from_env` logs once that summed limits are off.

A container's worker runs as a non-root uid, which cannot write the (root-owned) cgroup files. Run as
its entrypoint, `entrypoint` hands the container's cgroup to that uid and then becomes it::

    python -m atrium_agents.sandbox.entrypoint --user 10001:10001 -- celery -A config worker ...

As root (with only CAP_CHOWN, CAP_SETUID and CAP_SETGID), it moves the container's processes to
``atrium/worker``, gives ``atrium/`` the controllers and to the uid (systemd's delegation model: the
directory, ``cgroup.procs``, ``cgroup.subtree_control``, ``cgroup.threads``), sets
``ATRIUM_SANDBOX_CGROUP`` to it and executes the command as the uid, with no capabilities left. Where
the cgroup is not writable (Docker before 28, no ``writable-cgroups``), it only drops to the uid.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shlex
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

CGROUP_ENV = "ATRIUM_SANDBOX_CGROUP"
NAME_PREFIX = "atrium-sbx-"
WORKER_LEAF = "atrium-worker"
CONTROLLERS = ("cpu", "memory", "pids")
CPU_PERIOD_US = 100_000
# The shell that joins the cgroup, setpriv, bwrap and its pid 1 come on top of the sandbox's own.
PIDS_OVERHEAD = 8

_warned_off = False


@dataclass(frozen=True)
class CgroupLimits:
    memory_bytes: int
    cpus: float | None
    pids: int


@dataclass
class CommandCgroup:
    """One command's cgroup: a directory per hierarchy (one in v2; memory, cpu and pids in v1)."""

    version: int
    dirs: dict[str, Path]
    _removed: bool = field(default=False, repr=False)

    def wrap(self, argv: list[str], *, exit_code_on_failure: int) -> list[str]:
        """``argv`` started from a shell that first moves itself into the cgroup, so every process
        the command starts is born inside it (moving bwrap in after it started would race its forks)."""
        joins = "; ".join(
            f"echo $$ > {shlex.quote(str(path / 'cgroup.procs'))} || exit {exit_code_on_failure}"
            for path in self.unique_dirs()
        )
        return ["/bin/sh", "-c", f'{joins}; exec "$@"', "sh", *argv]

    def oom_kills(self) -> int:
        """How many of the command's processes the kernel killed for the memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        with contextlib.suppress(OSError, ValueError):
            for line in (self.dirs["memory"] / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.unique_dirs():
            with contextlib.suppress(OSError):
                found.update(int(pid) for pid in (path / "cgroup.procs").read_text().split())
        return sorted(found)

    def kill(self) -> None:
        kill_file = self.dirs["memory"] / "cgroup.kill"
        if self.version == 2 and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
                return
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        """Kill what is left and remove the directories; never raises."""
        if self._removed:
            return
        self._removed = True
        for _ in range(100):
            if not self.pids():
                break
            self.kill()
            time.sleep(0.02)
        for path in self.unique_dirs():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        break
                    time.sleep(0.02)
            if path.is_dir():
                logger.warning("sandbox cgroup %s could not be removed", path)

    def unique_dirs(self) -> list[Path]:
        return list(dict.fromkeys(self.dirs.values()))


@dataclass(frozen=True)
class CgroupTree:
    """Where command cgroups are created: one directory (v2) or one per controller (v1)."""

    version: int
    parents: dict[str, Path]

    @classmethod
    def v2(cls, root: Path) -> CgroupTree:
        return cls(2, dict.fromkeys(CONTROLLERS, root))

    def create(self, limits: CgroupLimits) -> CommandCgroup:
        name = NAME_PREFIX + secrets.token_hex(6)
        cgroup = CommandCgroup(self.version, {c: parent / name for c, parent in self.parents.items()})
        try:
            for path in cgroup.unique_dirs():
                path.mkdir()
            if self.version == 2:
                self._limit_v2(cgroup.dirs["memory"], limits)
            else:
                self._limit_v1(cgroup.dirs, limits)
        except BaseException:
            cgroup.remove()
            raise
        return cgroup

    def remove_stale(self, *, min_age_seconds: float = 60.0) -> list[str]:
        """Remove empty command cgroups older than ``min_age_seconds``: those of a worker killed
        mid-command (its sandboxes died with it, ``--die-with-parent``). A cgroup with processes, or
        one another worker has just created, is left alone."""
        removed = []
        now = time.time()
        for parent in dict.fromkeys(self.parents.values()):
            for child in parent.glob(NAME_PREFIX + "*"):
                try:
                    if now - child.stat().st_mtime < min_age_seconds:
                        continue
                    if (child / "cgroup.procs").read_text().strip():
                        continue
                    child.rmdir()
                except OSError:
                    continue
                removed.append(str(child))
        return removed

    @staticmethod
    def _limit_v2(path: Path, limits: CgroupLimits) -> None:
        _write(path / "memory.max", limits.memory_bytes)
        _write(path / "memory.swap.max", 0, optional=True)  # no swap: the cap is the cap
        _write(path / "memory.oom.group", 1, optional=True)  # one process over: the whole command goes
        if limits.cpus is not None:
            _write(path / "cpu.max", f"{max(1000, int(limits.cpus * CPU_PERIOD_US))} {CPU_PERIOD_US}")
        _write(path / "pids.max", limits.pids)

    @staticmethod
    def _limit_v1(dirs: dict[str, Path], limits: CgroupLimits) -> None:
        _write(dirs["memory"] / "memory.limit_in_bytes", limits.memory_bytes)
        # With swap accounting the memory+swap cap too, else swappiness 0 keeps the group off swap.
        _write(dirs["memory"] / "memory.memsw.limit_in_bytes", limits.memory_bytes, optional=True)
        _write(dirs["memory"] / "memory.swappiness", 0, optional=True)
        if limits.cpus is not None:
            _write(dirs["cpu"] / "cpu.cfs_period_us", CPU_PERIOD_US)
            _write(dirs["cpu"] / "cpu.cfs_quota_us", max(1000, int(limits.cpus * CPU_PERIOD_US)))
        _write(dirs["pids"] / "pids.max", limits.pids)


def cgroup_tree_from_env() -> CgroupTree | None:
    """The worker's tree per ``$ATRIUM_SANDBOX_CGROUP``; logs once per process when there is none."""
    global _warned_off
    setting = (os.environ.get(CGROUP_ENV) or "auto").strip()
    tree: CgroupTree | None = None
    if setting != "off":
        try:
            tree = detect(setting)
        except OSError:
            logger.exception("sandbox cgroups: %s=%s cannot be used", CGROUP_ENV, setting)
    if tree is None and not _warned_off:
        _warned_off = True
        logger.warning(
            "sandbox cgroup limits are off (%s=%s, no writable cgroup tree): memory is capped per "
            "process (RLIMIT_AS), not summed across a command's processes, and CPU has no quota",
            CGROUP_ENV,
            setting,
        )
    elif tree is not None:
        where = sorted({str(parent) for parent in tree.parents.values()})
        logger.info("sandbox cgroups: v%s under %s", tree.version, where)
        if stale := tree.remove_stale():
            logger.info("sandbox cgroups: removed %d left by a killed worker", len(stale))
    return tree


def detect(setting: str = "auto") -> CgroupTree | None:
    """The tree named by ``setting`` (``auto`` or a v2 directory), prepared for children; None if none."""
    if setting != "auto":
        prepare_v2(Path(setting))
        return CgroupTree.v2(Path(setting))
    own, mounts = _own_cgroups(), _mounts()
    root = _own_v2_dir(own, mounts)
    if root is not None:
        # "/" of a cgroup namespace is a container's own cgroup only when it is not the host's root
        # (which has no cgroup.type): moving the host's processes about is not ours to do.
        namespace_root = own[""] == "/" and (root / "cgroup.type").exists()
        delegated = namespace_root or (os.geteuid() != 0 and root.stat().st_uid == os.geteuid())
        if delegated and v2_usable(root):
            with contextlib.suppress(OSError):
                prepare_v2(root)
                return CgroupTree.v2(root)
    parents = {}
    for controller in CONTROLLERS:
        mount = mounts.get(controller)
        if mount is None or controller not in own:
            return None
        parent = mount / own[controller].lstrip("/")
        if not os.access(parent, os.W_OK | os.X_OK):
            return None
        parents[controller] = parent
    return CgroupTree(1, parents)


def prepare_v2(root: Path) -> None:
    """Give ``root``'s children the memory, cpu and pids controllers, first moving the processes in
    ``root`` to the leaf ``atrium-worker`` when it holds any (cgroup v2 allows no internal processes)."""
    wanted = set(CONTROLLERS)
    available = set((root / "cgroup.controllers").read_text().split())
    if not wanted <= available:
        raise OSError(errno.ENOTSUP, f"controllers {sorted(wanted - available)} not available in {root}")
    if wanted <= set((root / "cgroup.subtree_control").read_text().split()):
        return
    enable = " ".join(f"+{c}" for c in sorted(wanted))
    try:
        (root / "cgroup.subtree_control").write_text(enable)
        return
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
    leaf = root / WORKER_LEAF
    leaf.mkdir(exist_ok=True)
    _move_processes(root, leaf)
    _enable_controllers(root)


def delegate_v2(root: Path, uid: int, gid: int) -> Path:
    """Hand ``root/atrium`` to ``uid``:``gid`` as a tree for command cgroups, with this process (and
    every other in ``root``) in its leaf ``worker``; returns the tree's directory."""
    tree = root / "atrium"
    leaf = tree / "worker"
    leaf.mkdir(parents=True, exist_ok=True)
    _move_processes(root, leaf)
    _enable_controllers(root)
    _enable_controllers(tree)
    for path in (tree, leaf):
        for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            if (path / name).exists():
                os.chown(path / name, uid, gid)
    return tree


def _enable_controllers(path: Path) -> None:
    """Give ``path``'s children the controllers; the kernel may answer EBUSY for a moment after the
    last process left ``path``, so that is retried."""
    enable = " ".join(f"+{c}" for c in CONTROLLERS)
    for attempt in range(20):
        try:
            (path / "cgroup.subtree_control").write_text(enable)
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or attempt == 19:
                raise
            time.sleep(0.05)


def _move_processes(source: Path, target: Path) -> None:
    for _ in range(10):  # processes may start while we move the others
        pids = (source / "cgroup.procs").read_text().split()
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, OSError):
                (target / "cgroup.procs").write_text(pid)


def own_v2_dir() -> Path | None:
    """This process's cgroup v2 directory, if cgroup v2 is mounted."""
    return _own_v2_dir(_own_cgroups(), _mounts())


def _own_v2_dir(own: dict[str, str], mounts: dict[str, Path]) -> Path | None:
    if "" not in mounts or "" not in own:
        return None
    return mounts[""] / own[""].lstrip("/")


def v2_usable(root: Path) -> bool:
    try:
        available = set((root / "cgroup.controllers").read_text().split())
    except OSError:
        return False
    return set(CONTROLLERS) <= available and os.access(root, os.W_OK | os.X_OK)


def _own_cgroups() -> dict[str, str]:
    """Controller → this process's cgroup path (``""`` for v2), from ``/proc/self/cgroup``."""
    own = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    return own


def _mounts() -> dict[str, Path]:
    """Controller → mount point of its hierarchy (``""`` for v2), from ``/proc/self/mountinfo``."""
    mounts: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) < 5 or len(tail) < 3:
                continue
            point = Path(fields[4])
            if tail[0] == "cgroup2":
                mounts.setdefault("", point)
            elif tail[0] == "cgroup":
                for option in tail[2].split(","):
                    if option in CONTROLLERS:
                        mounts.setdefault(option, point)
    return mounts


def _write(path: Path, value: object, *, optional: bool = False) -> None:
    try:
        path.write_text(str(value))
    except OSError:
        if not optional:
            raise
