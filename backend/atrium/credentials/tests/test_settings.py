"""Production refuses to start without real vault keys (malformed lists: test_vault.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

BACKEND = settings.BACKEND_DIR
DEV_KEYS = {"ATRIUM_VAULT_KEYS": settings.DEV_VAULT_KEYS}


def _start(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("ATRIUM_VAULT_KEYS", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BACKEND,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, "ATRIUM_SECRET_KEY": "a-real-secret-key", **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "env", "error"),
    [
        ("config.settings.production", {}, "Set the environment variable ATRIUM_VAULT_KEYS"),
        ("config.settings.production", DEV_KEYS, "Set real ATRIUM_VAULT_KEYS"),
    ],
    ids=["production-without-keys", "production-with-the-dev-key"],
)
def test_processes_refuse_to_start_without_usable_keys(module, env, error):
    result = _start(module, **env)
    assert result.returncode != 0
    assert error in result.stderr
