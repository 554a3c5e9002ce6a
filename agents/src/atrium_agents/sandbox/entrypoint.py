"""The worker container's entrypoint: hand it the container's cgroup, then become it (`cgroups`)."""

from __future__ import annotations

import argparse
import ctypes
import errno
import logging
import os
from pathlib import Path

from atrium_agents.sandbox import cgroups

logger = logging.getLogger(__name__)

# prctl(2) options (linux/prctl.h).
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4


def _prctl(option: int, arg: int = 0, arg3: int = 0) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, arg, arg3, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl({option}, {arg}): {os.strerror(code)}")


def drop_privileges(user: int, group: int) -> None:
    """Become ``user``:``group`` for good: no capability now, and none from a later exec.

    `setuid` from root clears the permitted, effective and ambient sets, but an exec of a
    set-user-ID-root program (or one with file capabilities) would get root back, with every capability
    left in the bounding set. So the bounding set is emptied too, where the container left this process
    CAP_SETPCAP to do it, and no_new_privs (needing no capability) makes the kernel ignore both the
    set-user-ID bit and file capabilities on every exec from here on, whatever the container's options.
    """
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        try:
            _prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno != errno.EPERM:  # EPERM: no CAP_SETPCAP (compose drops it); no_new_privs holds
                raise
            break
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.setgroups([])
    os.setgid(group)
    os.setuid(user)  # from root to a uid: the permitted and effective sets go too
    if os.getuid() != user or os.geteuid() != user or os.getgid() != group or os.getegid() != group:
        raise OSError(errno.EPERM, f"still not {user}:{group} after setuid")


def main(argv: list[str] | None = None) -> None:
    """Entrypoint: delegate the container's cgroup to ``--user`` where possible, then run the command
    as that user (see the module's docstring)."""
    parser = argparse.ArgumentParser(description="Run a command as USER with the container's cgroup")
    parser.add_argument("--user", required=True, help="uid:gid")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    uid, _, gid = args.user.partition(":")
    user, group = int(uid), int(gid or uid)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if os.geteuid() == 0 and (os.environ.get(cgroups.CGROUP_ENV) or "auto") == "auto":
        root = cgroups.own_v2_dir()
        try:
            # A container's own cgroup, never the host's root (which has no cgroup.type).
            if root is None or not (root / "cgroup.type").exists() or not cgroups.v2_usable(root):
                raise OSError(errno.EROFS, "no writable cgroup v2 directory of this container")
            os.environ[cgroups.CGROUP_ENV] = str(cgroups.delegate_v2(root, user, group))
        except OSError as exc:
            logger.warning("sandbox cgroups not delegated (%s); commands get rlimits only", exc)
    if os.geteuid() == 0:
        drop_privileges(user, group)
    else:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)  # already a uid: still nothing may gain privileges on an exec
    os.execvp(args.command[0], args.command)  # noqa: S606  # the entrypoint becomes the command


if __name__ == "__main__":
    main()
