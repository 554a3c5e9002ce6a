"""The import contracts of pyproject.toml hold (`lint-imports`, also a step of infra/scripts/test.sh):
the agents never import Django or the platform, core imports no app, and the runtime's imports point
down (API and worker -> services/selectors -> messaging). A service that imported a task or the API's
serializers (as the webhook service and `dispatch` once did) breaks a contract here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def test_the_import_contracts_are_kept() -> None:
    lint_imports = shutil.which("lint-imports")
    assert lint_imports is not None, "import-linter is a dev dependency: uv sync"
    done = subprocess.run(
        [lint_imports, "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
