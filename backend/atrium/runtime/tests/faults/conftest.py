"""A live stack to break: uvicorn, beat and three Celery workers on the test database, with a Redis
server of its own (so restarting it disturbs no other suite), and a table the fixture graph's nodes
record their executions in.

The stack uses the default lease, heartbeat and sweep settings; only the shutdown grace (0: drain at
once) and the reconciler's threshold (3 s) are shortened so the tests stay short.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import redis

from atrium.runtime.tests.conformance.conftest import (
    LiveStack,
    _database_url,
    _free_port,
    _seed,
    _start,
    _stop,
    _wait_disconnected,
    _wait_ok,
)
from atrium.runtime.tests.live_stack import _guarded

GRAPHS_FILE = Path(__file__).resolve().parent / "graphs" / "langgraph.json"
REPO_DIR = Path(__file__).resolve().parents[5]
WORKERS = 3
EXEC_TABLE = """
CREATE TABLE IF NOT EXISTS fault_node_exec (
    id bigserial PRIMARY KEY, thread_id text NOT NULL, node text NOT NULL, attempt int NOT NULL,
    pid int NOT NULL, started_at timestamptz NOT NULL DEFAULT clock_timestamp())
"""


@dataclass
class FaultStack:
    """The live processes, and how to kill, stop and start them."""

    live: LiveStack
    dsn: str
    env: dict[str, str]
    log_dir: Path
    redis_port: int
    redis_dir: Path
    workers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    others: list[subprocess.Popen[bytes]] = field(default_factory=list)
    redis_process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    names: dict[int, str] = field(default_factory=dict)

    def worker_name(self, index: int) -> str:
        """The current process of slot `index` (a restarted worker gets a new name: leases it held
        in a former life are told apart)."""
        return self.names[index]

    def start_worker(self, index: int) -> None:
        self.starts += 1
        self.names[index] = f"fault-{index}-{self.starts}-{self.redis_port}"
        self.workers[index] = _start(
            f"worker-{index}-{self.starts}",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "default,runs,webhooks",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "-l",
                "WARNING",
                "-n",
                f"{self.worker_name(index)}@localhost",
                "--without-gossip",
                "--without-mingle",
            ],
            self.env,
            self.log_dir,
        )

    def kill_worker(self, index: int, sig: int = signal.SIGKILL) -> None:
        process = self.workers[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)

    def start_redis(self) -> None:
        self.redis_process = subprocess.Popen(
            _guarded(
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.redis_dir),
                ]
            ),
            stdout=(self.log_dir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if redis.Redis(port=self.redis_port).ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop_redis(self) -> None:
        if self.redis_process is not None:
            self.redis_process.kill()  # no persistence: everything queued in it is gone
            self.redis_process.wait(timeout=10)

    def restart_redis(self, down_seconds: float) -> None:
        """A restart that keeps the data (as a deployment with persistence does): save, stop, stay
        down for `down_seconds`, start again from the saved file."""
        with contextlib.suppress(redis.RedisError):
            redis.Redis(port=self.redis_port).shutdown(save=True)
        assert self.redis_process is not None
        self.redis_process.wait(timeout=30)
        time.sleep(down_seconds)
        self.start_redis()
        (self.redis_dir / "dump.rdb").unlink()  # a later stop_redis must lose everything again

    def restart_postgres(self, down_seconds: float) -> None:
        """Restart the test's own PostgreSQL (fast shutdown: every session is cut), staying down for
        `down_seconds`. Skips when the database is not one `infra/scripts/services.sh` started here."""
        data_dir = Path(os.environ.get("ATRIUM_DATA_DIR") or REPO_DIR / ".data")
        port_file = data_dir / "services" / "pg.port"
        port = urlsplit(self.dsn).port
        if not port_file.is_file() or port_file.read_text().strip() != str(port):
            pytest.skip("PostgreSQL was not started by infra/scripts/services.sh for this run")
        script = REPO_DIR / "infra" / "scripts" / "services.sh"
        subprocess.run(
            ["bash", str(script), "restart-postgres", str(data_dir), str(down_seconds)], check=True
        )

    def start_web(self, name: str) -> tuple[str, subprocess.Popen[bytes]]:
        """Another web process on the same stack; returns its base URL."""
        port = _free_port()
        args = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
        args += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
        process = _start(name, args, self.env, self.log_dir)
        base_url = f"http://127.0.0.1:{port}"
        if not wait_until(lambda: http_ok(f"{base_url}/agent/ok"), 60, interval=0.2):
            _stop(process)
            raise RuntimeError(f"web process {name} did not start\n{self.live.logs()}")
        return base_url, process

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def node_started(self, thread_id: str, node: str, timeout: float = 30) -> bool:
        """Wait until a fault graph's `node` has begun executing on the thread (fault_node_exec)."""
        return wait_until(
            lambda: self.sql(
                "SELECT 1 FROM fault_node_exec WHERE thread_id = %s AND node = %s", (thread_id, node)
            ),
            timeout,
            interval=0.05,
        )


@pytest.fixture(scope="package")
def faults(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    db_settings = connections["default"].settings_dict
    own_databases = None
    if not str(db_settings["NAME"]).startswith("test_"):
        with django_db_blocker.unblock():
            own_databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    assert str(db_settings["NAME"]).startswith("test_"), "refusing to seed a non-test database"
    with django_db_blocker.unblock():
        seeded = _seed()
    dsn = _database_url(db_settings)
    log_dir = tmp_path_factory.mktemp("fault-stack")
    redis_port, port = _free_port(), _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": dsn,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ATRIUM_GRAPHS": str(GRAPHS_FILE),
        "ATRIUM_DB_POOL": "false",
        "ATRIUM_LOG_LEVEL": "WARNING",
        "ATRIUM_SHUTDOWN_GRACE_SECONDS": "0",
        "ATRIUM_RUN_RECONCILE_AFTER_SECONDS": "3",
        "ATRIUM_FAULTS_DSN": dsn,
        "PYTHONUNBUFFERED": "1",
        "PGAPPNAME": f"atrium-stack-faults-{port}",  # live_stack._wait_disconnected waits for these
    }
    live = LiveStack.serving(base_url, seeded, log_dir)
    stack = FaultStack(live=live, dsn=dsn, env=env, log_dir=log_dir, redis_port=redis_port, redis_dir=log_dir)
    stack.sql(EXEC_TABLE)
    stack.start_redis()
    web_args = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    web_args += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    stack.others.append(_start("web", web_args, env, log_dir))
    beat_args = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "WARNING"]
    beat_args += ["-s", str(log_dir / "beat-schedule"), "--pidfile", ""]
    stack.others.append(_start("beat", beat_args, env, log_dir))
    for index in range(WORKERS):
        stack.start_worker(index)
    try:
        _wait_ok(base_url, [*stack.others, *stack.workers.values()], live)
        result = live.sync_client("editor", timeout=60).runs.wait(None, "steps", input={"trace": []})
        assert isinstance(result, dict), live.logs()
        assert result.get("trace") == ["s1", "s2", "s3", "s4", "s5"], live.logs()
        yield stack
    finally:
        for process in [*stack.others, *stack.workers.values()]:
            _stop(process)
        stack.stop_redis()
        with contextlib.suppress(psycopg.Error):
            stack.sql("DROP TABLE IF EXISTS fault_node_exec")
        with django_db_blocker.unblock():
            _wait_disconnected(db_settings["NAME"], env["PGAPPNAME"])
            if own_databases is not None:
                teardown_databases(own_databases, verbosity=0)


def wait_until(predicate: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def http_ok(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code == 200
    return False
