"""As root, Postgres and Redis run as an unprivileged user, or in a user namespace when that user
cannot reach what they need (infra/scripts/lib.sh::service_mode). A checkout in a private directory
(`mktemp -d` as root makes one) holds the bundled PostgreSQL in its .venv: the service user could not
execute initdb there, and `make test` on a fresh clone failed before any test ran."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the service user is only used as root")


def _mode(data_dir: Path, bindir: Path) -> str:
    script = f'source {ROOT}/infra/scripts/lib.sh; service_mode "$1" "$2"'
    done = subprocess.run(
        ["bash", "-c", script, "_", str(data_dir), str(bindir)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _bindir(parent: Path) -> Path:
    bindir = parent / "pginstall" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "initdb").write_text("#!/bin/sh\n")
    (bindir / "initdb").chmod(0o755)
    (parent / "pginstall").chmod(0o755)
    return bindir


def test_binaries_under_a_private_directory_run_in_a_user_namespace() -> None:
    # pytest's tmp_path lies under a private directory itself: a directory of /tmp, opened up
    with tempfile.TemporaryDirectory(dir="/tmp") as name:
        top = Path(name)
        top.chmod(0o755)
        # Given a data dir the service user can reach, and server binaries under a private checkout
        data = top / "data" / "services"
        data.parent.mkdir(mode=0o755)
        checkout = top / "checkout"
        checkout.mkdir()
        checkout.chmod(0o700)
        public = top / "public"
        public.mkdir()
        public.chmod(0o755)

        # Then the private binaries are run from a user namespace, the reachable ones as the service user
        assert _mode(data, _bindir(checkout)) == "userns"
        assert _mode(data, _bindir(public)) == "user"
