"""The egress proxy on real sandboxes: listed hosts only, credentials added outside the sandbox."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import atrium_agents.sandbox.run_scoped as run_scoped
from atrium_agents.deep_agent.context import Context
from atrium_agents.deep_agent.graph import SECRETS_KEY
from atrium_agents.sandbox import BubblewrapProvider, BubblewrapSandbox
from atrium_agents.sandbox.egress import EgressError, EgressPolicy, parse_rules
from tests.conftest import ALICE, OPEN_OUTBOUND, Agent, OpenOutbound

KEY = "sk-live-egress-4242"


class KeyedService(ThreadingHTTPServer):
    """A loopback API that answers only requests carrying the key, and records what it was sent."""

    seen: list[dict[str, str]]


class _Handler(BaseHTTPRequestHandler):
    server: KeyedService

    def do_GET(self) -> None:  # http.server's naming
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        ok = self.headers.get("X-Api-Key") == KEY
        body = b"forecast: sunny\n" if ok else b"missing or wrong key\n"
        if self.path == "/echo":  # a careless API that repeats the request's headers
            key, encoding = self.headers.get("X-Api-Key"), self.headers.get("Accept-Encoding")
            body = f"you sent {key} and {encoding}\n".encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def service() -> Iterator[KeyedService]:
    server = KeyedService(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _policy(secrets: dict[str, str] | None = None) -> EgressPolicy:
    rules = parse_rules([{"host": "127.0.0.1", "header": "X-Api-Key", "value": "${WEATHER_KEY}"}])
    return EgressPolicy(rules, {"WEATHER_KEY": KEY} if secrets is None else secrets, OPEN_OUTBOUND)


def _fetch(url: str) -> str:
    return (
        'python3 -c "import urllib.request, urllib.error, sys\n'
        "try:\n"
        f"    print(urllib.request.urlopen('{url}', timeout=10).read().decode(), end='')\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code, e.read().decode(), end='')\n"
        "except Exception as e:\n"
        "    print('failed:', type(e).__name__)\""
    )


def test_code_calls_an_allowed_service_with_a_key_it_never_sees(
    sandbox: BubblewrapSandbox, service: KeyedService
):
    # given
    port = service.server_address[1]
    command = (
        _fetch(f"http://127.0.0.1:{port}/forecast")
        + " > /workspace/answer.txt; cat /workspace/answer.txt; env; cat /proc/*/environ 2>/dev/null;"
        " ls -la /run/egress; cat /run/egress/* 2>/dev/null;"
        " grep -rl egress-4242 /workspace /tmp /run /etc /proc/[0-9]*/cmdline 2>/dev/null; true"
    )

    # when
    result = sandbox.execute(command, egress=_policy(), timeout=20)

    # then: the call succeeded because the proxy added the key, which appears nowhere inside
    assert result.exit_code == 0
    assert result.output.startswith("forecast: sunny\n")
    assert "http_proxy=http://127.0.0.1:3128" in result.output
    assert KEY not in result.output
    assert (sandbox.workspace_dir / "answer.txt").read_text() == "forecast: sunny\n"
    assert [seen["x-api-key"] for seen in service.seen] == [KEY]
    assert "proxy-connection" not in service.seen[0]


def test_the_sandbox_cannot_replace_the_key_or_skip_the_proxy(
    sandbox: BubblewrapSandbox, service: KeyedService
):
    # given
    port = service.server_address[1]
    spoof = (
        'python3 -c "import urllib.request as u\n'
        f"r = u.Request('http://127.0.0.1:{port}/x', headers={{'X-Api-Key': 'mine'}})\n"
        "print(u.urlopen(r, timeout=10).read().decode(), end='')\""
    )
    direct = (
        'python3 -c "import socket\n'
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5); print('connected')\n"
        "except OSError as e:\n"
        "    print('refused', type(e).__name__)\""
    )

    # when
    spoofed = sandbox.execute(spoof, egress=_policy())
    bypass = sandbox.execute(direct, egress=_policy())

    # then
    assert spoofed.output == "forecast: sunny\n"
    assert [seen["x-api-key"] for seen in service.seen] == [KEY]
    assert bypass.output == "refused ConnectionRefusedError\n"


def test_hosts_not_listed_are_refused_and_https_is_tunnelled_only_to_listed_hosts(sandbox: BubblewrapSandbox):
    # when
    plain = sandbox.execute(_fetch("http://example.org/"), egress=_policy())
    tunnel = sandbox.execute(
        "curl -sS -o /dev/null -w '%{http_code}\\n' https://example.org/ 2>&1; true", egress=_policy()
    )

    # then
    assert plain.output == "403 [egress proxy] egress to example.org is not allowed\n"
    assert tunnel.output == "curl: (56) CONNECT tunnel failed, response 403\n000\n"


def test_a_missing_secret_is_named_and_nothing_is_sent(sandbox: BubblewrapSandbox, service: KeyedService):
    # when
    result = sandbox.execute(_fetch(f"http://127.0.0.1:{service.server_address[1]}/"), egress=_policy({}))

    # then
    assert result.output == "502 [egress proxy] secret WEATHER_KEY is not set in this workspace\n"
    assert service.seen == []


def test_without_egress_there_is_no_proxy_and_no_way_out(sandbox: BubblewrapSandbox, service: KeyedService):
    # when
    result = sandbox.execute(_fetch(f"http://127.0.0.1:{service.server_address[1]}/") + "; env")

    # then
    assert result.output.startswith("failed: URLError\n")
    assert "proxy" not in result.output.lower()
    assert service.seen == []


def test_rules_are_validated_and_matched_most_specific_first():
    # given
    rules = parse_rules(
        [
            {"host": "*.example.com", "header": "Authorization", "value": "Bearer ${WILD}"},
            {"host": "API.example.com.", "header": "Authorization", "value": "Bearer ${EXACT}", "tls": True},
        ]
    )
    policy = EgressPolicy(rules, {"WILD": "w", "EXACT": "e"})

    # when / then
    exact = policy.rule_for("api.example.com")
    wild = policy.rule_for("eu.api.example.com")
    assert exact is not None
    assert exact.tls
    assert policy.headers_for(exact) == [("Authorization", "Bearer e")]
    assert wild is not None
    assert policy.headers_for(wild) == [("Authorization", "Bearer w")]
    assert policy.rule_for("example.com") is None
    assert policy.rule_for("evil-example.com") is None
    for bad in (
        {"host": "http://x.com"},
        {"host": "x.com", "header": "X-Key"},
        {"host": "x.com", "header": "Bad Header", "value": "v"},
        {"host": "x.com", "header": "X-Key", "value": "a\r\nInjected: 1"},
    ):
        with pytest.raises(EgressError):
            parse_rules([bad])


async def test_the_agent_calls_the_service_through_the_proxy_with_workspace_secrets(
    make_agent: Callable[..., Agent], provider: BubblewrapProvider, service: KeyedService, monkeypatch
):
    # given: an assistant allowing one host, and the workspace secrets the runtime hands the graph
    monkeypatch.setattr(run_scoped, "_default_provider", provider)
    rule = {"host": "127.0.0.1", "header": "X-Api-Key", "value": "${WEATHER_KEY}"}
    agent = make_agent(sandbox="thread", sandbox_egress=[rule], **{SECRETS_KEY: {"WEATHER_KEY": KEY}})
    port = service.server_address[1]

    # when
    reply = await agent.reply(ALICE, "t-1", f"run `curl -sS http://127.0.0.1:{port}/forecast`")
    refused = await agent.reply(ALICE, "t-1", "run `curl -sS http://example.org/`")

    # then
    assert reply == "Command output:\nforecast: sunny\n\n[Command succeeded with exit code 0]"
    assert refused.startswith("Command output:\n[egress proxy] egress to example.org is not allowed\n")
    assert [seen["x-api-key"] for seen in service.seen] == [KEY]
    stored = repr(list(agent.saver.list(None))) + repr(agent.saver.blobs)
    assert KEY not in stored


def test_egress_rules_are_checked_with_the_assistants_settings():
    with pytest.raises(ValueError, match="needs both 'header' and 'value'"):
        Context(sandbox="thread", sandbox_egress=[{"host": "x.com", "header": "X-Key"}])


def test_a_key_the_upstream_echoes_is_masked_before_it_reaches_the_sandbox(
    sandbox: BubblewrapSandbox, service: KeyedService
):
    # when: the API repeats the key in its answer (over curl, which asks for compressed answers)
    port = service.server_address[1]
    result = sandbox.execute(f"curl -sS --compressed http://127.0.0.1:{port}/echo", egress=_policy())

    # then: the bytes are overwritten in place, and the answer was not compressed so they could be
    assert result.output == f"you sent {'*' * len(KEY)} and None\n"
    assert [seen["x-api-key"] for seen in service.seen] == [KEY]


def test_the_masker_catches_a_secret_split_across_reads():
    from atrium_agents.sandbox.egress import _Masker

    masker = _Masker([b"sk-secret", b"other-key"])
    stream = [b"a sk-se", b"cret b oth", b"er-k", b"ey c sk-secre"]

    out = b"".join(masker.feed(chunk) for chunk in stream) + masker.flush()

    assert out == b"a ********* b ********* c sk-secre"


def _connect(host: str, port: int) -> str:
    """Code that asks the proxy for a tunnel and prints its status line."""
    return (
        'python3 -c "import socket\n'
        "s = socket.create_connection(('127.0.0.1', 3128), timeout=10)\n"
        f"s.sendall(b'CONNECT {host}:{port} HTTP/1.1\\\\r\\\\nHost: {host}:{port}\\\\r\\\\n\\\\r\\\\n')\n"
        'print(s.recv(4096).decode().splitlines()[0])"'
    )


@pytest.fixture
def redis_like() -> Iterator[int]:
    """A TCP service on a port that is not a web port (a Redis or Postgres on the worker's host)."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


def test_tunnels_go_only_to_web_ports_unless_the_operator_allows_more(
    sandbox: BubblewrapSandbox, redis_like: int
):
    # given: the host is listed, but its service listens on a port that is not 80 or 443
    rules = parse_rules([{"host": "127.0.0.1"}])
    closed = EgressPolicy(rules, {}, OpenOutbound(ports=frozenset()))
    opened = EgressPolicy(rules, {}, OpenOutbound(ports=frozenset({redis_like})))

    # when
    redis_default = sandbox.execute(_connect("127.0.0.1", 6379), egress=closed)
    refused = sandbox.execute(_connect("127.0.0.1", redis_like), egress=closed)
    allowed = sandbox.execute(_connect("127.0.0.1", redis_like), egress=opened)
    by_rule = sandbox.execute(
        _connect("127.0.0.1", redis_like),
        egress=EgressPolicy(
            parse_rules([{"host": "127.0.0.1", "port": redis_like}]), {}, OpenOutbound(ports=frozenset())
        ),
    )

    # then
    assert redis_default.output == "HTTP/1.1 403 Forbidden\n"
    assert refused.output == "HTTP/1.1 403 Forbidden\n"
    assert allowed.output == "HTTP/1.1 200 Connection established\n"
    assert by_rule.output == "HTTP/1.1 200 Connection established\n"


def test_the_proxy_connects_to_the_address_the_guard_checked(
    sandbox: BubblewrapSandbox, service: KeyedService
):
    # given: a listed name only the guard can answer for (no DNS knows it)
    port = service.server_address[1]
    guard = OpenOutbound(addresses={"api.pinned.test": "127.0.0.1"})
    rules = parse_rules([{"host": "api.pinned.test", "header": "X-Api-Key", "value": "${WEATHER_KEY}"}])

    # when
    result = sandbox.execute(
        _fetch(f"http://api.pinned.test:{port}/forecast"),
        egress=EgressPolicy(rules, {"WEATHER_KEY": KEY}, guard),
    )

    # then: the proxy asked the guard once and connected where it said, naming the host it was asked for
    assert result.output == "forecast: sunny\n"
    assert guard.asked == [("api.pinned.test", port)]
    assert service.seen[0]["host"] == f"api.pinned.test:{port}"


def test_without_a_guard_nothing_goes_out(sandbox: BubblewrapSandbox, service: KeyedService):
    # when
    result = sandbox.execute(
        _fetch(f"http://127.0.0.1:{service.server_address[1]}/"),
        egress=EgressPolicy(parse_rules([{"host": "127.0.0.1"}]), {}),
    )

    # then
    assert result.output.startswith("403 [egress proxy] egress to 127.0.0.1:")
    assert "no outbound guard" in result.output
    assert service.seen == []
