"""A live stack for the conformance and security suites: a real uvicorn and Celery worker on the test DB.

The official clients talk to it over HTTP exactly as they would to any deployment, so every row of
agent-protocol.md is checked end to end (web process → Postgres/Redis → worker → back to the client).

One stack serves the whole session:

* the database is the one pytest-django creates; the orgs, members and API keys are committed with
  the DB blocker lifted (no test transaction), so the live processes see them. The tests themselves
  never touch the database in-process (they are not `django_db` tests, so pytest-django runs them
  after every database test and its flushes);
* Redis is the same server as `REDIS_URL`, on its own logical database (flushed at start), so a
  developer's worker on the same Redis can never take the suite's runs;
* graphs come from `graphs/langgraph.json` (`ATRIUM_GRAPHS`); it also names the shipped `echo` and
  `agent` graphs by their files in `agents/`;
* the processes log JSON at INFO into files of `log_dir`, and export their traces over OTLP/HTTP to a
  loopback receiver in this process (`stack.otlp`), so tests can read both.

Each process runs in its own process group and is killed as a group at the end, or by the kernel
when the test process dies (`_guarded`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from atrium.runtime.tests.conformance.fake_provider import FakeProvider, start_fake_provider

BACKEND_DIR = Path(__file__).resolve().parents[3]
GRAPHS_FILE = Path(__file__).resolve().parent / "conformance" / "graphs" / "langgraph.json"
# Under pytest-xdist each worker starts its own live stack: each gets its own Redis database, or the
# stacks' workers would share one `runs` queue and take each other's runs (then find no such run).
XDIST_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
# Counting down from 11 (the beat test counts up from 12; the unit tests use 0). The others: 3-4 the
# in-flight test, 5-6 the bench smoke runs, 14-15 the TTL test, and from 16 (services.sh gives the
# test Redis 32 databases) a pair each, one per xdist worker: the memory agent's stack, the template
# project's, the stock-paths stack.
REDIS_DB = int(os.environ.get("ATRIUM_CONFORMANCE_REDIS_DB", "11")) - XDIST_INDEX
START_TIMEOUT = 90.0
STREAM_CAP = 3000
MODEL_PRICES = {"offline": {"input": 2, "output": 8, "cached_input": 1}}
CORS_ORIGIN = "http://browser.conformance.test"


class OtlpReceiver:
    """A loopback OTLP/HTTP trace receiver: keeps every span the live processes export."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.parsed: list[dict[str, Any]] = []  # spans of requests[:self.seen], parsed once
        self.seen = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/v1/traces":
                    with receiver.lock:
                        receiver.requests.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[dict[str, Any]]:
        """Every span received so far, flattened: name, ids (hex), service, attributes."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        with self.lock:
            bodies, start = list(self.requests), self.seen
        spans: list[dict[str, Any]] = []
        for body in bodies[start:]:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        spans.append(
                            {
                                "name": span.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_id": span.parent_span_id.hex(),
                                "service": resource.get("service.name", ""),
                                "attributes": {a.key: _any_value(a.value) for a in span.attributes},
                            }
                        )
        with self.lock:
            if self.seen == start:
                self.parsed.extend(spans)
                self.seen = len(bodies)
            return list(self.parsed)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@dataclass(frozen=True)
class LiveStack:
    """Where the server listens (`url` is the Agent Server API root) and who may call it."""

    base_url: str
    url: str
    keys: dict[str, str]
    # Each member's seeded org (`_seed`): the fuzz admin is also admin of the orgs the OpenAPI fuzzing
    # creates with `POST /orgs`, so "their first org" is not necessarily the seeded one.
    org_slugs: dict[str, str]
    log_dir: Path
    otlp: OtlpReceiver = field(default_factory=OtlpReceiver)

    def client(self, who: str = "editor", **kwargs: Any) -> LangGraphClient:
        kwargs.setdefault("timeout", httpx.Timeout(30.0, connect=5.0))
        return get_client(url=self.url, api_key=self.keys[who] if who != "anonymous" else None, **kwargs)

    def sync_client(self, who: str = "editor", **kwargs: Any) -> SyncLangGraphClient:
        return get_sync_client(url=self.url, api_key=self.keys[who] if who != "anonymous" else None, **kwargs)

    def headers(self, who: str = "editor") -> dict[str, str]:
        return {"x-api-key": self.keys[who]} if who != "anonymous" else {}

    def admin_approve(
        self,
        assistant_id: str | None = None,
        *,
        secrets: list[str] = (),
        hosts: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        """As org `a`'s admin: add `hosts` to the org's approved egress hosts and grant `secrets` to the
        assistant (what a builder's settings may reach, atrium.assistants.policy)."""
        base = f"{self.base_url}/api/v1/orgs/{self.org_slug('admin')}"
        headers = self.headers("admin")
        if hosts:
            approved = httpx.get(f"{base}/policy", headers=headers, timeout=10).json()["egress_hosts"]
            body = {"egress_hosts": sorted({*approved, *hosts})}
            httpx.put(f"{base}/policy", json=body, headers=headers, timeout=10).raise_for_status()
        if assistant_id is not None:
            grants = {"secrets": list(secrets), "audience": "everyone"}
            url = f"{base}/assistants/{assistant_id}/grants"
            httpx.put(url, json=grants, headers=headers, timeout=10).raise_for_status()

    @classmethod
    def serving(
        cls, base_url: str, seeded: Seeded, log_dir: Path, otlp: OtlpReceiver | None = None
    ) -> LiveStack:
        """The stack at `base_url` (its Agent Server API under /agent) for the members `_seed` made."""
        return cls(
            base_url=base_url,
            url=f"{base_url}/agent",
            keys=seeded.keys,
            org_slugs=seeded.org_slugs,
            log_dir=log_dir,
            otlp=otlp or OtlpReceiver(),
        )

    def org_slug(self, who: str = "admin") -> str:
        """The slug of the org `who` was seeded into."""
        return self.org_slugs[who]

    def logs(self, lines: int = 60) -> str:
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(out)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url(settings: dict[str, Any]) -> str:
    user = quote(settings.get("USER") or "")
    password = quote(settings.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or ""
    query = ""
    if host.startswith("/"):  # a socket directory
        query, host = f"?host={quote(host)}", ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings['NAME']}{query}"


def _redis_url(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


@dataclass(frozen=True)
class Seeded:
    keys: dict[str, str]  # member -> API key
    org_slugs: dict[str, str]  # member -> slug of their org


def _seed() -> Seeded:
    """Three orgs. `a` has an admin, two builders (`editor`, `editor2`), two end users (`enduser`,
    `enduser2`) and a viewer; `b` a builder (`other`); `fuzz` an admin whose org the OpenAPI fuzzing
    may fill and change at will, away from everyone else's."""
    from atrium.accounts.services import user_get_or_create
    from atrium.core.tenancy import Role, Scope, scoped
    from atrium.orgs.services import api_key_create, membership_ensure, org_ensure

    suffix = uuid.uuid4().hex[:8]
    people = {
        "admin": ("a", Role.ADMIN),
        "editor": ("a", Role.BUILDER),
        "editor2": ("a", Role.BUILDER),
        "enduser": ("a", Role.END_USER),
        "enduser2": ("a", Role.END_USER),
        "viewer": ("a", Role.VIEWER),
        "other": ("b", Role.BUILDER),
        "fuzz": ("fuzz", Role.ADMIN),
    }
    orgs = {
        name: org_ensure(slug=f"conf-{name}-{suffix}", name=f"Conformance {name}")
        for name in ("a", "b", "fuzz")
    }
    keys = {}
    for who, (org_name, role) in people.items():
        org = orgs[org_name]
        user, _ = user_get_or_create(email=f"{who}-{suffix}@conformance.test")
        membership_ensure(org=org, user=user, role=role)
        with scoped(Scope(user_id=None, org_id=org.id, org_slug=org.slug, role=Role.ADMIN)):
            _, keys[who] = api_key_create(user=user, name=f"conformance {who}")
    return Seeded(keys=keys, org_slugs={who: orgs[org_name].slug for who, (org_name, _) in people.items()})


def _guarded(args: list[str]) -> list[str]:
    """`args` under `setpriv --pdeathsig KILL` (util-linux): the kernel kills the process when this one
    dies, even by SIGKILL, so no live process outlives a killed test run. The signal is tied to the
    thread that starts the process, so it is only asked for from the main thread (where fixtures run):
    a process started from another thread (e.g. the fault suite's killer thread, which ends before the
    test does) is ended by `_stop` alone."""
    if threading.current_thread() is not threading.main_thread() or not shutil.which("setpriv"):
        return args
    return ["setpriv", "--pdeathsig", "KILL", "--", *args]


def _start(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("wb")
    return subprocess.Popen(  # a new session: the process and its children form one group
        _guarded(args), cwd=BACKEND_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen[bytes], grace: float = 8.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # Anything left in the group (a child that outlived its parent) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _wait_ok(base_url: str, processes: list[subprocess.Popen[bytes]], stack: LiveStack) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a live process exited with {process.returncode}\n{stack.logs()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/agent/ok", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"/agent/ok did not answer within {START_TIMEOUT:.0f}s\n{stack.logs()}")


def _wait_worker(stack: LiveStack) -> None:
    """The first run proves the whole path: API, queue, worker, checkpointer, result."""
    client = stack.sync_client("editor", timeout=START_TIMEOUT)
    result = client.runs.wait(None, "simple", input={"steps": []})
    if not isinstance(result, dict) or result.get("steps") != ["first", "second", "third"]:
        raise RuntimeError(f"the warm-up run returned {result!r}\n{stack.logs()}")


def _wait_disconnected(database: str, application: str, timeout: float = 10.0) -> None:
    """Dropping the test database fails while the live processes' connections linger. Only this
    stack's (`application`, their PGAPPNAME): another stack on the same database stays connected."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                [database, application],
            )
            if cur.fetchone()[0] == 0:
                return
        time.sleep(0.1)


@pytest.fixture(scope="session")
def fake_provider() -> Iterator[FakeProvider]:
    """The model provider at the edge (OpenAI-compatible), for agents whose model is `openai:*`."""
    provider, server = start_fake_provider()
    yield provider
    server.shutdown()


@contextlib.contextmanager
def running_stack(
    *,
    name: str,
    graphs: Path,
    redis_db: int,
    env: dict[str, str],
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    concurrency: int = 16,
    otlp: OtlpReceiver | None = None,
) -> Iterator[LiveStack]:
    """A real uvicorn and Celery worker serving `graphs` on the test database (set up the way
    pytest-django does when no database test ran) and Redis database `redis_db` (flushed), with the
    orgs of `_seed`. `env` is added to the processes' environment; a key set to "" is removed."""
    import redis
    from django.conf import settings
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    db_settings = connections["default"].settings_dict
    own_databases = None
    if not str(db_settings["NAME"]).startswith("test_"):
        # No database test in this session, so pytest-django set up nothing: do it here, the same way.
        with django_db_blocker.unblock():
            own_databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    assert str(db_settings["NAME"]).startswith("test_"), "refusing to seed a non-test database"
    with django_db_blocker.unblock():
        seeded = _seed()
    redis_url = _redis_url(settings.REDIS_URL, redis_db)
    redis.Redis.from_url(redis_url).flushdb()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_dir = tmp_path_factory.mktemp(name)
    process_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(db_settings),
        "REDIS_URL": redis_url,
        "ATRIUM_GRAPHS": str(graphs),
        "ATRIUM_DB_POOL": "false",
        # Every worker sweeps leases and reconciles the queue. A stack shares the test database with
        # the fault suite's stacks and the others, which have a Redis of their own: its worker must not
        # recover their runs (it would wake their waiters on the wrong Redis). No test here needs it.
        "ATRIUM_RUN_SWEEP_SECONDS": "3600",
        "ATRIUM_RUN_RECONCILE_SECONDS": "3600",
        "ATRIUM_PUBLIC_URL": base_url,  # OAuth providers send users back to this server
        # The stack is thrown away at teardown: nothing to hand back, nothing to drain.
        "ATRIUM_SHUTDOWN_GRACE_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
        "PGAPPNAME": f"atrium-stack-{name}-{port}",  # libpq's: tells this stack's connections apart
        **env,
    }
    process_env = {k: v for k, v in process_env.items() if v != ""}
    if otlp is not None:
        process_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.endpoint
        process_env["OTEL_BSP_SCHEDULE_DELAY"] = "200"  # export spans within 0.2 s
    stack = LiveStack.serving(base_url, seeded, log_dir, otlp)
    web_args = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    web_args += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    web_args += ["--timeout-graceful-shutdown", "1"]  # open streams would hold it to the SIGKILL
    worker_args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,runs,webhooks"]
    worker_args += ["--pool", "threads", "--concurrency", str(concurrency), "-l", "WARNING"]
    worker_args += ["-n", f"{name}-{port}@%h", "--without-gossip", "--without-mingle"]
    processes = [
        _start("web", web_args, process_env, log_dir),
        _start("worker", worker_args, process_env, log_dir),
    ]
    try:
        _wait_ok(base_url, processes, stack)
        yield stack
    finally:
        for process in processes:
            _stop(process)
        stack.otlp.close()
        with django_db_blocker.unblock():
            _wait_disconnected(db_settings["NAME"], process_env["PGAPPNAME"])
            if own_databases is not None:
                teardown_databases(own_databases, verbosity=0)


@pytest.fixture(scope="session")
def live_stack(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    fake_provider: FakeProvider,
) -> Iterator[LiveStack]:
    env = {
        "ATRIUM_LOG_LEVEL": "INFO",
        "ATRIUM_LOG_FORMAT": "json",
        "ATRIUM_CORS_ORIGINS": CORS_ORIGIN,
        "ATRIUM_WEBHOOK_BACKOFF_SECONDS": "0.2",
        # Low enough for the stream-cap test's endless graph to reach it quickly, far above any other
        # test's runs.
        "ATRIUM_RUN_MAX_STREAM_EVENTS": str(STREAM_CAP),
        # The offline model priced (per million tokens), so usage rows carry a cost (test_agent_usage.py).
        "ATRIUM_MODEL_PRICES": json.dumps(MODEL_PRICES),
        "OPENAI_BASE_URL": fake_provider.url,
        "OPENAI_API_KEY": "",  # the key must come from the org's workspace secrets
    }
    with running_stack(
        name="conformance",
        graphs=GRAPHS_FILE,
        redis_db=REDIS_DB,
        env=env,
        django_db_blocker=django_db_blocker,
        tmp_path_factory=tmp_path_factory,
        otlp=OtlpReceiver(),
    ) as stack:
        _wait_worker(stack)
        yield stack


def _stack(live_stack: LiveStack) -> LiveStack:
    return live_stack


def _client(live_stack: LiveStack) -> LangGraphClient:
    """The Python SDK's async client, as a builder (`editor`) of org `a`."""
    return live_stack.client("editor")


async def _http(live_stack: LiveStack) -> AsyncIterator[Any]:
    """A raw HTTP client on the API root, as the builder, for what the SDKs hide (status, headers)."""
    async with httpx.AsyncClient(
        base_url=live_stack.url, headers=live_stack.headers("editor"), timeout=30
    ) as c:
        yield c


# The suites' shorthands (`stack`, `client`, `http`), for the conftests of the suites that use the live
# stack to take with `stack, client, http = SUITE_FIXTURES`: a tuple, so this plugin does not register
# them for the whole session, where `client` would shadow pytest-django's.
SUITE_FIXTURES = (
    pytest.fixture(name="stack")(_stack),
    pytest.fixture(name="client")(_client),
    pytest.fixture(name="http")(_http),
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed row's report carries the tail of the live processes' logs."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    stack = getattr(item, "funcargs", {}).get("live_stack") or getattr(item, "funcargs", {}).get("stack")
    if report.when == "call" and report.failed and isinstance(stack, LiveStack):
        report.sections.append(("live stack logs", stack.logs(40)))
