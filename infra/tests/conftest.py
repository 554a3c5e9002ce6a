"""Fixtures of the infra tests."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from process_helpers import alive, pids


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; whatever is left at the end is killed."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    for path in tmp_path.glob("*.pids"):
        for pid in pids(path):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
