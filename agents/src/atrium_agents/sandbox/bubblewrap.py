"""Sandboxes on bubblewrap: Linux namespaces around a directory on disk.

Each sandbox is ``<root>/<id>/`` holding ``meta.json`` (labels, TTL), ``workspace/`` (bound read-write
at ``/workspace``) and ``tmp/`` (bound at ``/tmp``; it persists because deepagents' ``edit`` uploads
to ``/tmp`` and reads it back in a later ``execute``). Every command runs in fresh namespaces:

* user: the command runs as uid/gid 65534 with no capabilities. When the worker is root, bwrap itself
  is started as 65534 too (``setpriv``), because the kernel exempts host root from ``RLIMIT_NPROC``;
* network: a new, empty network namespace (only its own loopback), so no host or outside service;
  with an `EgressPolicy`, HTTP to the listed hosts only, through the worker's proxy (`egress`);
* mount: a fresh root with read-only ``/usr`` (and the merged-usr symlinks), ``/etc/alternatives`` and
  a tiny generated ``/etc``: no host home, ``/root``, ``/work`` or secrets on disk;
* pid, ipc, uts, cgroup; ``--die-with-parent`` and ``--new-session``; an empty environment; no
  further user namespaces inside (``--disable-userns``, where bwrap has it).

Limits are set inside with ``prlimit`` after the user namespace exists, so ``RLIMIT_NPROC`` counts the
sandbox's own processes: address space (memory), CPU seconds per process, processes, file size and
open files. Where the worker has a writable cgroup tree (`cgroups`), each command also runs in its own
cgroup: memory summed across its processes, a CPU quota and a process cap. Wall time, output size and
disk use (``/workspace`` plus ``/tmp``, measured from outside about every second while a command runs)
are enforced from outside by killing bwrap, whose death takes the sandbox's whole pid namespace with
it. Not limited: memory summed across processes where there is no cgroup tree; disk use can overshoot
by what is written between two checks (each file is capped by the file-size limit), and files uploaded
between commands are not counted until the next command.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
import os
import posixpath
import secrets
import selectors
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepagents.backends.protocol import (
    ExecuteResponse,
    FileDownloadResponse,
    FileOperationError,
    FileUploadResponse,
)
from deepagents.backends.sandbox import BaseSandbox

from atrium_agents.sandbox.cgroups import PIDS_OVERHEAD, CgroupLimits, CgroupTree, CommandCgroup
from atrium_agents.sandbox.egress import FORWARDER_NAME, PROXY_URL, EgressPolicy, EgressProxy
from atrium_agents.sandbox.egress import SANDBOX_DIR as EGRESS_DIR
from atrium_agents.sandbox.provider import Labels, SandboxError, SandboxInfo, sandbox_id_for, validate_labels

logger = logging.getLogger(__name__)

SANDBOX_UID = 65534
WORKSPACE = "/workspace"
TMP = "/tmp"  # noqa: S108  # the sandbox's own /tmp, not the host's
WRITABLE_ROOTS = (WORKSPACE, TMP)
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
# The interpreter of the sandbox's helpers, under the read-only /usr it sees: Debian's, or the one the
# official python images (and so the backend image) build into /usr/local.
_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
SANDBOX_PYTHON = next((path for path in _PYTHONS if os.path.exists(path)), _PYTHONS[0])

EXIT_MEMORY_LIMIT = 122
EXIT_TIMEOUT = 124
EXIT_OUTPUT_LIMIT = 125
EXIT_DISK_LIMIT = 123
EXIT_SANDBOX_ERROR = 126

_ETC_FILES = {
    "passwd": f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{WORKSPACE}:/bin/sh\n",
    "group": f"sandbox:x:{SANDBOX_UID}:\n",
    "hosts": "127.0.0.1 localhost\n::1 localhost\n",
}
_ETC_DIRS = ("/etc/alternatives",)


@dataclass(frozen=True)
class Limits:
    """Resource limits of every command; the wall time is the default ``execute`` timeout."""

    wall_seconds: int = 60
    max_wall_seconds: int = 600
    cpu_seconds: int = 60
    memory_bytes: int = 1 << 30
    max_processes: int = 128
    file_size_bytes: int = 256 << 20
    open_files: int = 1024
    max_output_bytes: int = 200_000
    max_transfer_bytes: int = 50 << 20
    disk_bytes: int | None = 2 << 30
    """Space the sandbox's ``/workspace`` and ``/tmp`` may take together, checked every
    ``disk_check_seconds`` while a command runs (None: unchecked)."""
    disk_check_seconds: float = 1.0
    total_memory_bytes: int = 1 << 30
    """Memory of all a command's processes together (a cgroup's; only where there is a cgroup tree)."""
    cpus: float | None = 1.0
    """CPUs a command may use at once (a cgroup CPU quota; None: no quota)."""

    def cgroup_limits(self) -> CgroupLimits:
        return CgroupLimits(
            memory_bytes=self.total_memory_bytes, cpus=self.cpus, pids=self.max_processes + PIDS_OVERHEAD
        )


@functools.cache
def bwrap_supports(bwrap: str, option: str) -> bool:
    """Whether this bubblewrap knows ``option`` (its ``--help`` lists it); asked once per process."""
    try:
        found = subprocess.run(  # noqa: S603  # the worker's own bwrap, no shell
            [bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return option in found.stdout + found.stderr


def _no_nested_userns(bwrap: str) -> list[str]:
    """``--disable-userns`` where bwrap has it (0.8.0+): sandboxed code may not create a user namespace,
    in which it would hold every capability, could mount cgroup2 and, as the owner of its command
    cgroup's files (the worker's uid in a container), raise its own limits."""
    if bwrap_supports(bwrap, "--disable-userns"):
        return ["--disable-userns"]
    global _warned_userns
    if not _warned_userns:
        _warned_userns = True
        logger.warning(
            "bubblewrap %s has no --disable-userns (0.8.0+): sandboxed code may create user namespaces, "
            "and where cgroup2 is not mounted with nsdelegate, raise its command cgroup's limits",
            bwrap,
        )
    return []


_warned_userns = False


class BubblewrapSandbox(BaseSandbox):
    """One sandbox directory; every method runs through bwrap and never raises into the caller."""

    def __init__(
        self, path: Path, *, limits: Limits, bwrap: str, drop_to_uid: bool, cgroups: CgroupTree | None = None
    ) -> None:
        self._path = path
        self._limits = limits
        self._bwrap = bwrap
        self._drop_to_uid = drop_to_uid
        self._cgroups = cgroups

    @property
    def id(self) -> str:
        return self._path.name

    @property
    def workspace_dir(self) -> Path:
        """The host directory behind ``/workspace`` (for the platform, not for tenant code)."""
        return self._path / "workspace"

    def execute(
        self, command: str, *, timeout: int | None = None, egress: EgressPolicy | None = None
    ) -> ExecuteResponse:
        """Run a shell command; with ``egress``, outbound HTTP to its hosts goes through `EgressProxy`."""
        wall = min(timeout or self._limits.wall_seconds, self._limits.max_wall_seconds)
        try:
            self._touch()
            with contextlib.ExitStack() as stack:
                argv = ["/bin/sh", "-c", command]
                proxy_dir = None
                if egress is not None and egress.rules:
                    proxy_dir = stack.enter_context(EgressProxy(egress)).directory
                    start = f"{SANDBOX_PYTHON} -I {EGRESS_DIR}/{FORWARDER_NAME} || exit {EXIT_SANDBOX_ERROR}"
                    argv = ["/bin/sh", "-c", f'{start}; exec /bin/sh -c "$1"', "sh", command]
                output, exit_code, truncated = self._run(
                    argv, wall=wall, max_output=self._limits.max_output_bytes, egress_dir=proxy_dir
                )
        except Exception as exc:  # the worker must survive whatever happens here
            logger.exception("sandbox %s: execute failed", self.id)
            message = f"[sandbox] could not run the command: {exc}"
            return ExecuteResponse(output=message, exit_code=EXIT_SANDBOX_ERROR, truncated=False)
        return ExecuteResponse(
            output=output + _explain(exit_code, wall, self._limits), exit_code=exit_code, truncated=truncated
        )

    def upload_files(self, files: list[tuple[str, bytes]]) -> list[FileUploadResponse]:
        results: dict[int, FileOperationError | None] = {}
        batch: list[tuple[int, str, bytes]] = []
        for index, (path, content) in enumerate(files):
            clean = confined_path(path)
            if clean is None:
                results[index] = "invalid_path"
            elif len(content) > self._limits.max_transfer_bytes:
                results[index] = "permission_denied"
            else:
                batch.append((index, clean, content))
        if batch:
            payload = [{"path": p, "data": base64.b64encode(c).decode()} for _, p, c in batch]
            errors = self._helper(_UPLOAD_SCRIPT, payload, len(batch))
            for (index, _, _), error in zip(batch, errors, strict=True):
                results[index] = error.get("error")
        return [FileUploadResponse(path=path, error=results[i]) for i, (path, _) in enumerate(files)]

    def download_files(self, paths: list[str]) -> list[FileDownloadResponse]:
        results: dict[int, FileDownloadResponse] = {}
        batch: list[tuple[int, str]] = []
        for index, path in enumerate(paths):
            clean = confined_path(path)
            if clean is None:
                results[index] = FileDownloadResponse(path=path, error="invalid_path")
            else:
                batch.append((index, clean))
        if batch:
            request = {"paths": [p for _, p in batch], "max": self._limits.max_transfer_bytes}
            answers = self._helper(_DOWNLOAD_SCRIPT, request, len(batch))
            for (index, _), answer in zip(batch, answers, strict=True):
                data = answer.get("data")
                results[index] = FileDownloadResponse(
                    path=paths[index],
                    content=base64.b64decode(data) if data is not None else None,
                    error=answer.get("error"),
                )
        return [results[i] for i in range(len(paths))]

    # -- internals ---------------------------------------------------------------------------------

    def _helper(self, script: str, request: Any, count: int) -> list[dict[str, Any]]:
        """Run a python3 helper inside the sandbox, so paths resolve (symlinks too) in its view only."""
        try:
            self._touch()
            output, exit_code, _ = self._run(
                [SANDBOX_PYTHON, "-I", "-c", script],
                wall=self._limits.max_wall_seconds,
                max_output=self._limits.max_transfer_bytes * 2 + 1_000_000,
                stdin=json.dumps(request).encode(),
            )
            answers = json.loads(output) if exit_code == 0 else None
        except Exception:
            logger.exception("sandbox %s: file transfer failed", self.id)
            answers = None
        if not isinstance(answers, list) or len(answers) != count:
            logger.warning("sandbox %s: file transfer helper failed", self.id)
            return [{"error": "permission_denied"}] * count
        return answers

    def _touch(self) -> None:
        os.utime(self._path / "meta.json")

    def _argv(self, command: list[str], egress_dir: Path | None = None) -> list[str]:
        limits = self._limits
        argv = [self._bwrap]
        if self._drop_to_uid:
            uid = str(SANDBOX_UID)
            argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", self._bwrap]
        argv += [
            "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            *_no_nested_userns(self._bwrap),
            "--clearenv", "--setenv", "PATH", SANDBOX_PATH, "--setenv", "HOME", WORKSPACE,
            "--setenv", "TMPDIR", TMP, "--setenv", "LANG", "C.UTF-8",
            "--ro-bind", "/usr", "/usr",
        ]  # fmt: skip
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / name
            if host.is_symlink():
                argv += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                argv += ["--ro-bind", str(host), f"/{name}"]
        for directory in _ETC_DIRS:
            if Path(directory).is_dir():
                argv += ["--ro-bind", directory, directory]
        for name in _ETC_FILES:
            argv += ["--ro-bind", str(self._path / "etc" / name), f"/etc/{name}"]
        if egress_dir is not None:
            argv += ["--ro-bind", str(egress_dir), EGRESS_DIR]
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
                argv += ["--setenv", name, PROXY_URL]
        argv += [
            "--proc", "/proc", "--dev", "/dev",
            "--bind", str(self._path / "workspace"), WORKSPACE,
            "--bind", str(self._path / "tmp"), TMP,
            "--chdir", WORKSPACE, "--",
            "/usr/bin/prlimit",
            # CPU: SIGXCPU at the soft limit (the agent learns why), SIGKILL a second later.
            f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
            f"--nproc={limits.max_processes}",
            f"--fsize={limits.file_size_bytes}", f"--nofile={limits.open_files}", "--core=0", "--",
        ]  # fmt: skip
        return argv + command

    def _run(
        self,
        command: list[str],
        *,
        wall: int,
        max_output: int,
        stdin: bytes | None = None,
        egress_dir: Path | None = None,
    ) -> tuple[str, int, bool]:
        """Run under bwrap; returns (output, exit code, truncated). Kills everything on wall/output limits."""
        cgroup = self._cgroups.create(self._limits.cgroup_limits()) if self._cgroups is not None else None
        try:
            return self._run_in(
                command, cgroup, wall=wall, max_output=max_output, stdin=stdin, egress_dir=egress_dir
            )
        finally:
            if cgroup is not None:
                cgroup.remove()

    def _run_in(
        self,
        command: list[str],
        cgroup: CommandCgroup | None,
        *,
        wall: int,
        max_output: int,
        stdin: bytes | None,
        egress_dir: Path | None,
    ) -> tuple[str, int, bool]:
        argv = self._argv(command, egress_dir)
        if cgroup is not None:
            argv = cgroup.wrap(argv, exit_code_on_failure=EXIT_SANDBOX_ERROR)
        proc = subprocess.Popen(  # noqa: S603  # argv built above, no shell on the host
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        if stdin is not None:
            threading.Thread(target=_feed, args=(proc, stdin), daemon=True).start()
        assert proc.stdout is not None
        chunks: list[bytes] = []
        size = 0
        reason: int | None = None
        deadline = time.monotonic() + wall
        disk = _DiskWatch(self, self._limits)
        # In cgroup v1 the kernel kills one process at the memory limit; the command goes with it.
        interval = disk.interval if cgroup is None else min(disk.interval, 0.2)
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    reason = EXIT_TIMEOUT
                    break
                if disk.over():
                    reason = EXIT_DISK_LIMIT
                    break
                if cgroup is not None and cgroup.oom_kills():
                    reason = EXIT_MEMORY_LIMIT
                    break
                if not selector.select(timeout=min(remaining, interval)):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_output:
                    reason = EXIT_OUTPUT_LIMIT
                    break
        if reason is not None:
            _kill(proc)
        try:
            exit_code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill(proc)
            exit_code, reason = proc.wait(), EXIT_TIMEOUT
        proc.stdout.close()
        output = b"".join(chunks)[:max_output].decode("utf-8", errors="replace")
        if exit_code < 0:
            exit_code = 128 - exit_code
        if reason is None and cgroup is not None and cgroup.oom_kills():
            reason = EXIT_MEMORY_LIMIT
        return output, reason or exit_code, reason == EXIT_OUTPUT_LIMIT

    def disk_usage(self) -> int:
        """Bytes allocated under the sandbox's ``/workspace`` and ``/tmp`` (symlinks not followed)."""
        total = 0
        for root in (self._path / "workspace", self._path / "tmp"):
            for dirpath, dirnames, filenames in os.walk(root):
                for name in dirnames + filenames:
                    with contextlib.suppress(OSError):
                        total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
        return total


class _DiskWatch:
    """Checks the sandbox's disk use at most every ``disk_check_seconds`` while a command runs.

    The limit is the larger of the quota and the use when the command started, so a sandbox already
    over it (e.g. after a lowered quota) can still run the ``rm`` that brings it back under.
    """

    def __init__(self, sandbox: BubblewrapSandbox, limits: Limits) -> None:
        self._sandbox = sandbox
        self.interval = limits.disk_check_seconds if limits.disk_bytes is not None else 3600.0
        self._limit = None if limits.disk_bytes is None else max(limits.disk_bytes, sandbox.disk_usage())
        self._next = time.monotonic() + self.interval

    def over(self) -> bool:
        if self._limit is None or time.monotonic() < self._next:
            return False
        self._next = time.monotonic() + self.interval
        return self._sandbox.disk_usage() > self._limit


class BubblewrapProvider:
    """Sandboxes under one root directory, found again by labels after any restart."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        limits: Limits | None = None,
        ttl_seconds: float | None = 7 * 24 * 3600,
        bwrap: str | None = None,
        cgroups: CgroupTree | None = None,
    ) -> None:
        self.root = Path(root)
        self.cgroups = cgroups
        self.limits = limits or Limits()
        self.ttl_seconds = ttl_seconds
        self._bwrap = bwrap or shutil.which("bwrap") or ""
        self._drop_to_uid = os.geteuid() == 0

    @property
    def available(self) -> bool:
        return bool(self._bwrap) and Path(self._bwrap).exists()

    def get_or_create(self, labels: Labels) -> BubblewrapSandbox:
        existing = self.find(labels)
        if existing is not None:
            return existing
        labels = validate_labels(labels)
        target = self._dir(sandbox_id_for(labels))
        staging = self._create_root() / f".new-{secrets.token_hex(8)}"
        self._populate(staging, labels)
        try:
            staging.rename(target)  # atomic: a concurrent creator's directory wins, ours is dropped
        except OSError:
            _remove_tree(staging)
            if not target.is_dir():
                raise
        sandbox = self.find(labels)
        if sandbox is None:
            raise SandboxError(f"sandbox {target.name} vanished while being created")
        return sandbox

    def find(self, labels: Labels) -> BubblewrapSandbox | None:
        path = self._dir(sandbox_id_for(labels))
        if not (path / "meta.json").is_file():
            return None
        if not self.available:
            raise SandboxError("bubblewrap (bwrap) is not installed; install the Debian package 'bubblewrap'")
        return BubblewrapSandbox(
            path, limits=self.limits, bwrap=self._bwrap, drop_to_uid=self._drop_to_uid, cgroups=self.cgroups
        )

    def delete(self, sandbox_id: str) -> bool:
        path = self._dir(sandbox_id)
        if not path.is_dir():
            return False
        trash = self.root / f".trash-{sandbox_id}-{secrets.token_hex(4)}"
        try:
            path.rename(trash)  # the id is free again at once; the files go after
        except FileNotFoundError:
            return False
        _remove_tree(trash)
        return True

    def list_sandboxes(self) -> list[SandboxInfo]:
        infos = []
        for meta in sorted(self.root.glob("sbx-*/meta.json")) if self.root.is_dir() else []:
            with contextlib.suppress(OSError, ValueError, KeyError):
                data = json.loads(meta.read_text())
                infos.append(
                    SandboxInfo(
                        id=meta.parent.name,
                        labels=data["labels"],
                        created_at=data["created_at"],
                        last_used_at=meta.stat().st_mtime,
                        ttl_seconds=data.get("ttl_seconds"),
                    )
                )
        return infos

    def cleanup_expired(self, *, now: float | None = None) -> list[str]:
        now = time.time() if now is None else now
        deleted = [info.id for info in self.list_sandboxes() if info.expired(now) and self.delete(info.id)]
        for leftover in self.root.glob(".trash-*") if self.root.is_dir() else []:
            _remove_tree(leftover)  # a delete interrupted by a crash
        return deleted

    # -- internals ---------------------------------------------------------------------------------

    def _dir(self, sandbox_id: str) -> Path:
        if not sandbox_id.startswith("sbx-") or "/" in sandbox_id or sandbox_id in (".", ".."):
            raise SandboxError(f"not a sandbox id: {sandbox_id!r}")
        return self.root / sandbox_id

    def _create_root(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._drop_to_uid:
            # bwrap runs as the sandbox uid and must traverse the root to bind the sandbox's dirs.
            self.root.chmod(0o711)
        return self.root

    def _populate(self, path: Path, labels: dict[str, str]) -> None:
        path.mkdir(mode=0o711)
        (path / "etc").mkdir(mode=0o755)
        for name, content in _ETC_FILES.items():
            (path / "etc" / name).write_text(content)
            (path / "etc" / name).chmod(0o644)
        for name in ("workspace", "tmp"):
            (path / name).mkdir(mode=0o700)
            if self._drop_to_uid:
                os.chown(path / name, SANDBOX_UID, SANDBOX_UID)
        now = time.time()
        meta = {"labels": labels, "created_at": now, "ttl_seconds": self.ttl_seconds}
        (path / "meta.json").write_text(json.dumps(meta, sort_keys=True))


def confined_path(path: str) -> str | None:
    """The normalised path when it is absolute and inside /workspace or /tmp, else None."""
    if not path.startswith("/") or "\x00" in path:
        return None
    clean = posixpath.normpath(path)
    return clean if any(clean.startswith(root + "/") for root in WRITABLE_ROOTS) else None


def _explain(exit_code: int, wall: int, limits: Limits) -> str:
    """A line the agent can act on when a limit stopped the command."""
    if exit_code == EXIT_TIMEOUT:
        return f"\n[sandbox] killed after the {wall}s time limit, with every process it started."
    if exit_code == EXIT_MEMORY_LIMIT:
        return (
            f"\n[sandbox] killed: the command's processes together used more than the "
            f"{limits.total_memory_bytes} byte memory limit."
        )
    if exit_code == EXIT_DISK_LIMIT:
        return (
            f"\n[sandbox] killed: /workspace and /tmp grew past the {limits.disk_bytes} byte disk limit. "
            "Delete files you do not need."
        )
    if exit_code == EXIT_OUTPUT_LIMIT:
        return (
            f"\n[sandbox] stopped: output exceeded {limits.max_output_bytes} bytes. "
            "Write large output to a file under /workspace and read parts of it."
        )
    if exit_code == 128 + signal.SIGXCPU:
        return f"\n[sandbox] killed: CPU time limit of {limits.cpu_seconds}s exceeded."
    if exit_code == 128 + signal.SIGKILL:
        return "\n[sandbox] killed (SIGKILL), probably by a resource limit (memory or processes)."
    if exit_code == 128 + signal.SIGXFSZ:
        return f"\n[sandbox] killed: a file grew past the {limits.file_size_bytes} byte limit."
    return ""


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(OSError):
        proc.stdin.write(data)
    with contextlib.suppress(OSError):
        proc.stdin.close()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill bwrap's process group; with it dies the sandbox's pid namespace (``--die-with-parent``)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _remove_tree(path: Path) -> None:
    """Remove a sandbox directory even where tenant code took its own permissions away."""
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    for dirpath, dirnames, _ in os.walk(path):  # top-down: a directory is opened before walked
        for name in dirnames:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(dirpath, name), 0o700, follow_symlinks=False)
    shutil.rmtree(path, ignore_errors=True)


# Helpers run by python3 inside the sandbox, as the sandbox uid: a path (and any symlink in it) can only
# resolve to what the sandbox itself sees. The final component is never followed.
_ERRORS = """
import base64, errno, json, os, sys
def err(e):
    if isinstance(e, FileNotFoundError): return "file_not_found"
    if isinstance(e, IsADirectoryError): return "is_directory"
    if isinstance(e, PermissionError): return "permission_denied"
    if getattr(e, "errno", None) == errno.ELOOP: return "invalid_path"
    return "invalid_path"
"""

_UPLOAD_SCRIPT = (
    _ERRORS
    + """
out = []
for item in json.load(sys.stdin):
    try:
        os.makedirs(os.path.dirname(item["path"]), exist_ok=True)
        fd = os.open(item["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(item["data"]))
        out.append({"error": None})
    except Exception as e:
        out.append({"error": err(e)})
print(json.dumps(out))
"""
)

_DOWNLOAD_SCRIPT = (
    _ERRORS
    + """
request = json.load(sys.stdin)
out = []
for path in request["paths"]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            data = f.read(request["max"] + 1)
        if len(data) > request["max"]:
            out.append({"error": "permission_denied"})
        else:
            out.append({"data": base64.b64encode(data).decode()})
    except Exception as e:
        out.append({"error": err(e)})
print(json.dumps(out))
"""
)
