"""Real bubblewrap sandboxes under a throwaway root, with limits small enough for a quick suite."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

from atrium_agents.sandbox import BubblewrapProvider, BubblewrapSandbox, Limits

TEST_LIMITS = Limits(
    wall_seconds=10,
    max_wall_seconds=20,
    cpu_seconds=2,
    memory_bytes=256 << 20,
    max_processes=32,
    file_size_bytes=8 << 20,
    max_output_bytes=64_000,
    max_transfer_bytes=1 << 20,
    disk_bytes=16 << 20,
)

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None,
    reason="bubblewrap is not installed (infra/scripts/install.sh installs the Debian package 'bubblewrap')",
)


@pytest.fixture
def sandbox_root() -> Iterator[str]:
    # Not pytest's tmp_path: that is private to root (0700), and a root worker runs bwrap as uid 65534,
    # which must traverse the path to the sandbox's directories.
    root = tempfile.mkdtemp(prefix="atrium-sandbox-test-")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def provider(sandbox_root: str) -> BubblewrapProvider:
    if shutil.which("bwrap") is None:
        pytest.skip(
            "bubblewrap is not installed (infra/scripts/install.sh installs the Debian package 'bubblewrap')"
        )
    return BubblewrapProvider(sandbox_root, limits=TEST_LIMITS, ttl_seconds=3600)


@pytest.fixture
def sandbox(provider: BubblewrapProvider) -> BubblewrapSandbox:
    return provider.get_or_create({"org_id": "acme", "thread_id": "t-1"})
