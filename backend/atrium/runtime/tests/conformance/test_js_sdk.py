"""The JS rows (`js/conformance.mjs`): `@langchain/langgraph-sdk` 2.0.0 `Client` and legacy `useStream`,
and the v2 rows C1-C15/H1-H3 with `@langchain/react` 1.1.0, against the same live stack.

`npm ci` runs once per lock file: a stamp in `node_modules` holds the hash of the lock it installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from atrium.runtime.tests.conformance.conftest import LiveStack

JS_DIR = Path(__file__).resolve().parent / "js"
STAMP = JS_DIR / "node_modules" / ".atrium-lock-stamp"


def _npm_ci() -> None:
    lock_hash = hashlib.sha256((JS_DIR / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == lock_hash:
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed for the JS conformance rows (make install provides it)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR, check=True, timeout=600
    )
    STAMP.write_text(lock_hash)


def test_js_clients(stack: LiveStack) -> None:
    _npm_ci()
    node = shutil.which("node")
    assert node is not None
    env = {**os.environ, "ATRIUM_URL": stack.url, "LANGGRAPH_API_KEY": stack.keys["editor"]}
    env.pop("ATRIUM_JS_ROWS", None)
    result = subprocess.run(
        [node, "conformance.mjs"], cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output}\n{stack.logs()}"
    assert result.stdout.splitlines()[-1].endswith(" 0 failed"), output
