"""Fixtures shared by the runtime's tests: a webhook receiver, and a real bubblewrap sandbox provider
under a throwaway root, set as the platform's."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

from atrium.runtime.tests.receiver import receiver
from atrium_agents.sandbox import BubblewrapProvider

__all__ = ["receiver", "sandbox_provider"]

_CURRENT: dict[str, BubblewrapProvider] = {}


def current_provider() -> BubblewrapProvider:
    """What ``ATRIUM_SANDBOX_PROVIDER`` names during a test using `sandbox_provider`."""
    return _CURRENT["provider"]


@pytest.fixture
def sandbox_provider(settings) -> Iterator[BubblewrapProvider]:  # type: ignore[no-untyped-def]
    # Not pytest's tmp_path: a root worker runs bwrap as uid 65534, which must traverse the path.
    root = tempfile.mkdtemp(prefix="atrium-sandbox-")
    _CURRENT["provider"] = BubblewrapProvider(root, ttl_seconds=3600)
    settings.ATRIUM_SANDBOX_PROVIDER = f"{__name__}:current_provider"
    yield _CURRENT["provider"]
    _CURRENT.clear()
    shutil.rmtree(root, ignore_errors=True)
