"""`make dev` (infra/scripts/dev.sh) for real, on its own Postgres and Redis: a one-machine production
layout under a supervisor that restarts what crashes and stops everything, services included, on
SIGTERM, however many arrive."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import process_helpers
from process_helpers import alive, wait_for

ROOT = Path(__file__).resolve().parents[2]
started = process_helpers.started  # the fixture


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> dict[int, str]:
    """The child processes of `pid`: pid -> command line."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            out[int(child)] = cmdline
    return out


def ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def mcp_tools(url: str) -> str:
    """What an MCP server at `url` answers to tools/list ("" until it answers)."""
    try:
        listed = httpx.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={"accept": "application/json, text/event-stream"},
            timeout=2,
        )
    except httpx.HTTPError:
        return ""
    return listed.text


def test_make_dev_is_a_supervised_single_node_that_one_or_two_sigterms_stop_entirely(tmp_path, started):
    data, port = tmp_path / "data", free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "ATRIUM_DEBUG")
        and not k.startswith("PYTEST_")
    }
    env |= {"ATRIUM_DATA_DIR": str(data), "ATRIUM_PG_PORT": "auto", "ATRIUM_REDIS_PORT": "auto"}
    env |= {"ATRIUM_PORT": str(port), "ATRIUM_WEB_PROCESSES": "2", "ATRIUM_WORKER_PROCESSES": "2"}
    log = tmp_path / "dev.log"
    dev = subprocess.Popen(
        ["bash", "infra/scripts/dev.sh"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    started.append(dev)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ok(f"{base}/agent/ok") or dev.poll() is not None, timeout=240)
        assert dev.poll() is None, log.read_text()[-3000:]

        # one uvicorn with two worker processes, two Celery worker processes, beat, the demo MCP server
        programs = children(dev.pid)
        web = [pid for pid, cmd in programs.items() if "uvicorn" in cmd]
        workers = {pid: cmd for pid, cmd in programs.items() if "celery -A config worker" in cmd}
        assert len(web) == 1
        assert "--workers 2" in programs[web[0]]
        wait_for(lambda: len([c for c in children(web[0]).values() if "spawn_main" in c]) == 2)
        assert len(workers) == 2
        assert len([cmd for cmd in programs.values() if "celery -A config beat" in cmd]) == 1
        mcp = [cmd for cmd in programs.values() if "-m atrium.mcp_servers.demo_server" in cmd]
        assert len(mcp) == 1
        mcp_port = mcp[0].split("--port ")[1].split()[0]
        wait_for(lambda: "lookup_order" in mcp_tools(f"http://127.0.0.1:{mcp_port}/mcp"))
        # production settings: debug off, so the admin's static files are the collected ones
        assert httpx.get(f"{base}/static/admin/css/base.css", timeout=5).status_code == 200

        # a killed worker comes back, with a line saying so
        victim = next(pid for pid, cmd in workers.items() if "-n worker1-" in cmd)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: any("-n worker1-" in cmd for pid, cmd in children(dev.pid).items() if pid != victim))
        assert "[dev] worker1 exited with 137; restarting in 1s" in log.read_text()

        everything = [*children(dev.pid), *children(web[0])]
        postgres = int((data / "services" / "pg" / "postmaster.pid").read_text().split()[0])
        redis = int((data / "services" / "redis.pid").read_text())
        dev.send_signal(signal.SIGTERM)
        dev.send_signal(signal.SIGTERM)  # as `make` forwarding the one a user sent it
        assert dev.wait(timeout=60) == 0
        assert [pid for pid in [*everything, postgres, redis] if alive(pid)] == []
    finally:
        if dev.poll() is None:
            dev.kill()
        subprocess.run(["bash", "infra/scripts/services.sh", "stop", str(data)], cwd=ROOT, check=False)


def test_make_devs_settings_are_productions_with_debug_off_unless_asked_for():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    env = {k: v for k, v in os.environ.items() if k != "ATRIUM_DEBUG"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    run = [sys.executable, "-c", code]
    default = subprocess.run(run, cwd=ROOT / "backend", env=env, capture_output=True, text=True, check=True)
    asked = subprocess.run(
        run, cwd=ROOT / "backend", env=env | {"ATRIUM_DEBUG": "1"}, capture_output=True, text=True, check=True
    )

    assert default.stdout.strip() == "False"
    assert asked.stdout.strip() == "True"
