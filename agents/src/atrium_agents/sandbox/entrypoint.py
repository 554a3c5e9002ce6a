"""The worker container's entrypoint: hand it the container's cgroup, then become it (`cgroups`)."""

from __future__ import annotations

import argparse
import errno
import logging
import os

from atrium_agents.sandbox import cgroups

logger = logging.getLogger(__name__)


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
        os.setgroups([])
        os.setgid(group)
        os.setuid(user)  # from root to a uid: every capability goes too
    os.execvp(args.command[0], args.command)  # noqa: S606  # the entrypoint becomes the command


if __name__ == "__main__":
    main()
