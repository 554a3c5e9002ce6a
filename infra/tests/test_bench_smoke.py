"""Every benchmark harness, run in its quick mode as `make bench*` runs it, so none can rot unnoticed
(`make bench-scale` once waited for a log line its workers no longer print, and nothing noticed).

The scripts run against the suite's Postgres server, on a database of their own (migrated by the
script, dropped here), and the suite's Redis server on a logical database no other test uses. The
figures are not checked (the machine is shared); the shape of the result and that runs completed are.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
# The live stacks count down from Redis database 11 (one per xdist worker), the beat test up from 12,
# the unit tests use 0.
REDIS_DB = 6 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
# One xdist worker runs them all (make test: --dist loadgroup), so the stack of `make bench` starts once.
pytestmark = pytest.mark.xdist_group("bench")


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


@pytest.fixture(scope="module")
def bench_env() -> Iterator[dict[str, str]]:
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        pytest.skip("needs DATABASE_URL and REDIS_URL (make test sets them)")
    name = f"bench_smoke_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    bench_redis = _with_path(redis_url, f"/{REDIS_DB}")
    redis.Redis.from_url(bench_redis).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env |= {"DATABASE_URL": _with_path(database_url, f"/{name}"), "REDIS_URL": bench_redis}
    try:
        yield env
    finally:
        redis.Redis.from_url(bench_redis).flushdb()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(env: dict[str, str], *command: str, timeout: float = 300) -> dict[str, Any]:
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_make_bench_quick_measures_both_graphs_and_compare_gives_their_ratios(bench_env, tmp_path):
    # One test, not a module fixture shared by two: pytest-xdist may interleave other tests between
    # a module's tests and set the fixture up again, and `make bench --quick` is a whole stack's start.
    bench_result = run(bench_env, "bash", "infra/scripts/bench.sh", "--quick")

    for graph in ("echo", "agent"):
        figures = bench_result[graph]
        assert figures["wait_ms"]["n"] == 5
        assert figures["wait_ms"]["p50"] > 0
        # A one-second window may see no run of the agent finish on a busy machine: no lower bound.
        assert set(figures["runs_per_s"]) == {"1", "8", "32"}
        assert figures["batch_32_clients"]["runs"] == 20
        assert figures["batch_32_clients"]["runs_per_s"] > 0
        assert figures["batch_32_clients"]["cpu_ms_per_run"]["total"] > 0
    assert bench_result["history_limit10_ms"]["n"] == 5

    # and `compare.py` reads two such results into ratios
    ours, theirs = tmp_path / "ours.json", tmp_path / "theirs.json"
    mine = json.loads(json.dumps(bench_result))
    mine["echo"]["runs_per_s"] = {"1": 10.0, "8": 40.0, "32": 60.0}
    ours.write_text(json.dumps(mine))
    mine["echo"]["runs_per_s"] = {"1": 5.0, "8": 20.0, "32": 30.0}
    theirs.write_text(json.dumps(mine))

    result = run(
        dict(os.environ),
        "uv",
        "run",
        "--frozen",
        "--quiet",
        "python",
        "infra/bench/compare.py",
        str(ours),
        str(theirs),
    )

    assert result["ratio_ours_over_theirs"]["echo"]["runs_per_s"] == {"1": 2.0, "8": 2.0, "32": 2.0}
    assert result["ratio_ours_over_theirs"]["agent"]["wait_ms"]["p50"] == 1.0


def test_make_bench_compare_quick_runs_against_langgraph_dev(bench_env):
    reference = Path(os.environ.get("ATRIUM_REF_VENV", ROOT / ".data" / "reference-venv"))
    if not (reference / "bin" / "langgraph").exists():
        pytest.skip(f"no langgraph CLI in {reference} (make bench-compare installs it from PyPI)")

    result = run(bench_env, "bash", "infra/scripts/bench-compare.sh", "--quick", timeout=600)

    assert result["theirs"]["target"] == "langgraph dev"
    assert result["ratio_ours_over_theirs"]["echo"]["runs_per_s"]["1"] > 0


def test_make_bench_scale_quick_starts_workers_and_streams_across_web_processes(bench_env):
    result = run(
        bench_env, "bash", "infra/scripts/bench-scale.sh", "--quick", "--workers", "1", "2", "--clients", "8"
    )

    assert set(result["runs_per_s"]) == {"1", "2"}
    assert all(value > 0 for value in result["runs_per_s"].values())
    assert result["stream_other_process"]["identical_to_creator"] == "3/3"
    assert [fan["identical"] for fan in result["fanout"]] == [True, True]
    assert result["postgres_per_run"]["echo"]["checkpoints_rows"] > 0
