"""Outside calls graphs make for users go through the platform's guard: the deep agent's connected
APIs, and code in a sandbox going out through the egress proxy. An assistant's settings (a builder's
choice) cannot aim them at the platform's own network (Redis, Postgres, cloud metadata); only the
deployment's settings can allow that."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from atrium.core import http
from atrium.runtime.outbound_port import RuntimeOutbound
from atrium_agents.auth import CREDENTIALS_KEY
from atrium_agents.deep_agent.connected_apis import connected_api_tools
from atrium_agents.outbound import OUTBOUND_KEY
from atrium_agents.sandbox import BubblewrapProvider, BubblewrapSandbox
from atrium_agents.sandbox.egress import EgressPolicy, parse_rules

TOKEN = "user-token-for-the-crm"


class _Internal(ThreadingHTTPServer):
    """A service on the worker's loopback (standing in for Redis, Postgres or a metadata endpoint)."""

    seen: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Internal

    def do_GET(self) -> None:  # http.server's naming
        self.server.seen.append(f"{self.path} {self.headers.get('Authorization')}")
        body = b"internal secrets\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def internal() -> Iterator[_Internal]:
    server = _Internal(("127.0.0.1", 0), _Handler)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


class _Credentials:
    async def token(self, provider: str, scopes: Sequence[str]) -> Mapping[str, Any]:
        return {"access_token": TOKEN, "token_type": "Bearer"}


async def _call_api(base_url: str, path: str) -> str:
    """`call_connected_api` as a run calls it, with the runtime's outbound port."""
    [tool] = connected_api_tools([{"name": "crm", "provider": "crm", "base_url": base_url, "scopes": ""}])
    config = {
        "configurable": {CREDENTIALS_KEY: _Credentials(), OUTBOUND_KEY: RuntimeOutbound.from_settings()}
    }
    assert tool.coroutine is not None
    answer: str = await tool.coroutine(api="crm", path=path, runtime=SimpleNamespace(config=config))
    return answer


async def test_a_connected_api_on_the_platforms_network_gets_no_call_and_no_token(
    internal: _Internal, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the deployment allows no private hosts; a builder lists APIs that point inwards
    settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = False
    port = internal.server_address[1]

    # when: the agent calls them (by name, by loopback literal, by a name answering NAT64 loopback)
    by_name = await _call_api(f"http://localhost:{port}/v1", "/deals")
    by_literal = await _call_api(f"http://127.0.0.1:{port}/v1", "/deals")
    monkeypatch.setattr(http, "lookup", lambda host, p: [ipaddress.ip_address("64:ff9b::7f00:1")])
    by_nat64 = await _call_api(f"http://crm.example:{port}/v1", "/deals")

    # then: refused, and the user's token went nowhere
    for answer in (by_name, by_literal, by_nat64):
        assert answer.startswith("The call to crm failed: ")
        assert answer.endswith("is not allowed: its host is not a public address")
    assert "64:ff9b" not in by_nat64  # the conversation learns nothing of what the name resolved to
    assert internal.seen == []


async def test_the_deployment_may_allow_private_api_hosts(internal: _Internal, settings: Any) -> None:
    settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = True
    answer = await _call_api(f"http://localhost:{internal.server_address[1]}/v1", "/deals")
    assert answer == "HTTP 200\ninternal secrets\n"
    assert internal.seen == [f"/v1/deals Bearer {TOKEN}"]


# -- the sandbox egress proxy -------------------------------------------------------------------------

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


@pytest.fixture
def sandbox() -> Iterator[BubblewrapSandbox]:
    root = tempfile.mkdtemp(prefix="atrium-sandbox-test-")  # traversable by the sandbox's uid
    yield BubblewrapProvider(root, ttl_seconds=3600).get_or_create({"org_id": "acme", "thread_id": "t-1"})
    shutil.rmtree(root, ignore_errors=True)


def _fetch(url: str) -> str:
    return (
        'python3 -c "import urllib.request, urllib.error\n'
        "try:\n"
        f"    print(urllib.request.urlopen('{url}', timeout=10).read().decode(), end='')\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code, e.read().decode(), end='')\""
    )


def _connect(host: str, port: int) -> str:
    return (
        'python3 -c "import socket\n'
        "s = socket.create_connection(('127.0.0.1', 3128), timeout=10)\n"
        f"s.sendall(b'CONNECT {host}:{port} HTTP/1.1\\\\r\\\\n\\\\r\\\\n')\n"
        'print(s.recv(4096).decode().splitlines()[0])"'
    )


def _policy(*specs: dict[str, Any]) -> EgressPolicy:
    return EgressPolicy(parse_rules(specs), {}, RuntimeOutbound.from_settings())


@needs_bwrap
def test_listed_hosts_that_resolve_into_the_platforms_network_are_refused(
    sandbox: BubblewrapSandbox, internal: _Internal, settings: Any
) -> None:
    # given: the deployment's defaults, and rules a builder wrote for inward hosts
    settings.ATRIUM_EGRESS_ALLOW_PRIVATE = False
    port = internal.server_address[1]
    rules = [
        {"host": "localhost", "port": port},
        {"host": "169.254.169.254"},
        {"host": "127.0.0.1", "port": port},
    ]

    # when: code in the sandbox goes through the proxy to each
    loopback = sandbox.execute(_fetch(f"http://localhost:{port}/"), egress=_policy(*rules))
    metadata = sandbox.execute(_fetch("http://169.254.169.254/latest/meta-data/"), egress=_policy(*rules))
    tunnel = sandbox.execute(_connect("127.0.0.1", port), egress=_policy(*rules))

    # then
    assert loopback.output.startswith(f"403 [egress proxy] egress to localhost:{port} is not allowed: ")
    assert loopback.output.endswith("localhost is not a public address\n")
    assert "127.0.0.1" not in loopback.output  # the sandbox learns nothing of the platform's names
    assert metadata.output.startswith("403 [egress proxy] egress to 169.254.169.254:80 is not allowed")
    assert tunnel.output == "HTTP/1.1 403 Forbidden\n"
    assert internal.seen == []


@needs_bwrap
def test_tunnels_to_other_ports_are_refused_unless_the_operator_allows_them(
    sandbox: BubblewrapSandbox, settings: Any
) -> None:
    # given: a Redis-like service on the worker's host, and the operator allowing private addresses
    service = socket.create_server(("127.0.0.1", 0))
    port = service.getsockname()[1]
    settings.ATRIUM_EGRESS_ALLOW_PRIVATE = True
    settings.ATRIUM_EGRESS_ALLOWED_PORTS = []
    try:
        # when
        redis = sandbox.execute(_connect("127.0.0.1", 6379), egress=_policy({"host": "127.0.0.1"}))
        other = sandbox.execute(_connect("127.0.0.1", port), egress=_policy({"host": "127.0.0.1"}))
        settings.ATRIUM_EGRESS_ALLOWED_PORTS = [port]
        allowed = sandbox.execute(_connect("127.0.0.1", port), egress=_policy({"host": "127.0.0.1"}))
    finally:
        service.close()

    # then
    assert redis.output == "HTTP/1.1 403 Forbidden\n"
    assert other.output == "HTTP/1.1 403 Forbidden\n"
    assert allowed.output == "HTTP/1.1 200 Connection established\n"


@needs_bwrap
def test_the_operator_may_allow_private_destinations(
    sandbox: BubblewrapSandbox, internal: _Internal, settings: Any
) -> None:
    settings.ATRIUM_EGRESS_ALLOW_PRIVATE = True
    port = internal.server_address[1]
    result = sandbox.execute(
        _fetch(f"http://localhost:{port}/x"), egress=_policy({"host": "localhost", "port": port})
    )
    assert result.output == "internal secrets\n"
    assert internal.seen == ["/x None"]
