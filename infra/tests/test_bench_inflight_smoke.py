"""`make bench-inflight ARGS=--quick` (infra/scripts/bench-inflight.sh): the harness starts its own
stack (throwaway Postgres and Redis), drives the I/O-bound graph through the official SDK and reports
a sane result, so it cannot rot between the times someone measures with it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "scripts" / "bench-inflight.sh"


def bench(*args: str) -> dict[str, Any]:
    """The script's JSON line. It starts its own services: nothing of this session's (database,
    Redis, settings) leaks in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ATRIUM_", "DJANGO_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return dict(json.loads(lines[-1]))


def test_the_quick_run_completes_every_run_and_reports_rates_and_memory() -> None:
    result = bench("--quick")
    level = result["4"]
    assert result["target"] == "atrium"
    assert level["errors"] == 0, level["error_kinds"]
    assert level["runs_per_s"] > 0
    assert 0 < level["of_ideal"] <= 1.2
    assert 0 < level["p50_s"] <= level["p95_s"]
    assert level["peak_running"] >= 1
    assert level["peak_rss_mib"] > 50


def test_a_small_long_run_completes_every_run_held_at_once() -> None:
    result = bench("--long", "20", "--long-model-seconds", "3")
    assert (result["completed"], result["errors"]) == (20, 0), result["error_kinds"]
    assert result["peak_running"] == 20
    assert result["peak_rss_mib"] > 50
