"""Installing a test project's `dependencies` the way every launcher does (`infra/scripts/project-deps.sh`),
into overlays cached in the temp dir between test runs (keyed by the project's fingerprint)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[3]
REPO_DIR = BACKEND_DIR.parent
PROJECTS_DIR = Path(__file__).resolve().parent / "projects"
SCRIPT = REPO_DIR / "infra" / "scripts" / "project-deps.sh"
# Kept between test runs: an unchanged project installs nothing the second time.
CACHE = Path(tempfile.gettempdir()) / "atrium-test-project-deps"


def project_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PATH"] = f"{Path.home() / '.local' / 'bin'}:{env.get('PATH', '')}"
    return env


def install_project(config: Path, root: Path = CACHE) -> subprocess.CompletedProcess[str]:
    env = project_env(ATRIUM_GRAPHS=str(config), ATRIUM_PROJECT_DEPS_DIR=str(root))
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
