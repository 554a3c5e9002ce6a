"""`make up/down/logs/ps` (infra/scripts/compose.sh) with a stand-in `docker` that records its calls
(there is no Docker engine here; what the script asks of it is what matters)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from atrium.credentials.vault import Keyring

ROOT = Path(__file__).resolve().parents[2]
FAKE_DOCKER = """#!/bin/sh
echo "$@" >> "$DOCKER_CALLS"
"""
SYSTEM_PATH = "/usr/bin:/bin"


def compose(
    tmp_path: Path, *args: str, docker: bool = True
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    calls.touch()
    if docker:
        (bin_dir / "docker").write_text(FAKE_DOCKER)
        (bin_dir / "docker").chmod(0o755)
    env = os.environ | {
        "PATH": f"{bin_dir}:{SYSTEM_PATH}",
        "DOCKER_CALLS": str(calls),
        "ATRIUM_COMPOSE_ENV": str(tmp_path / "compose.env"),
    }
    command = ["bash", str(ROOT / "infra" / "scripts" / "compose.sh"), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    return done, [line for line in calls.read_text().splitlines() if line != "compose version"]


def test_up_writes_private_random_secrets_once_and_waits_for_a_healthy_stack(tmp_path):
    env_file = tmp_path / "compose.env"

    first, calls = compose(tmp_path, "up")
    written = env_file.read_text()
    second, calls_after = compose(tmp_path, "up", "web")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert calls == [f"compose --env-file {env_file} up -d --build --wait"]
    assert calls_after[-1] == f"compose --env-file {env_file} up -d --build --wait web"
    values = dict(line.split("=", 1) for line in written.splitlines() if not line.startswith("#"))
    assert set(values) == {"ATRIUM_SECRET_KEY", "ATRIUM_VAULT_KEYS", "POSTGRES_PASSWORD"}
    assert Keyring.parse(values["ATRIUM_VAULT_KEYS"]).primary  # a key production settings accept
    assert len(values["ATRIUM_SECRET_KEY"]) >= 48
    assert len(values["POSTGRES_PASSWORD"]) >= 24
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert env_file.read_text() == written  # the second `up` kept the secrets
    assert "http://127.0.0.1:8000/" in first.stderr


def test_down_logs_and_ps_pass_through_and_never_write_secrets(tmp_path):
    results = [compose(tmp_path, *args) for args in (["down", "-v"], ["logs", "web"], ["ps"])]

    assert [done.returncode for done, _ in results] == [0, 0, 0]
    assert results[-1][1] == ["compose down -v", "compose logs -f --tail=200 web", "compose ps"]
    assert not (tmp_path / "compose.env").exists()


@pytest.mark.skipif(
    any(shutil.which(name, path=SYSTEM_PATH) for name in ("docker", "docker-compose")),
    reason="a real Docker is installed here",
)
def test_without_docker_it_says_what_is_missing(tmp_path):
    done, calls = compose(tmp_path, "up", docker=False)

    assert done.returncode != 0
    assert "Docker with the Compose plugin is needed" in done.stderr
    assert calls == []
    assert not (tmp_path / "compose.env").exists()
