"""The egress proxy: the only way out of a sandbox, to listed hosts, with credentials added outside.

A sandbox has no network of its own (an empty network namespace). When its assistant lists egress
rules, each command gets a proxy for its lifetime:

* on the worker, `EgressProxy` listens on a unix socket in a fresh directory, which is bound read-only
  into the sandbox at ``/run/egress``. It holds the rules and the run's resolved secrets in memory only;
* inside, a small forwarder (``forward.py`` in the same directory) listens on the sandbox's own
  loopback (``127.0.0.1:3128``) and relays each connection to the socket, and ``HTTP_PROXY`` /
  ``HTTPS_PROXY`` point there, so ordinary clients (``curl``, ``urllib``, ``requests``) use it.

The proxy allows a request only when its host matches a rule (``api.example.com`` exactly, or
``*.example.com`` for subdomains), and refuses everything else with 403. Plain-HTTP requests
(``http://api.example.com/...``) are forwarded with the rule's headers set, ``${NAME}`` in a header
value resolved from the workspace's secrets, replacing any header of that name the sandbox sent; a
rule with ``tls`` sends them upstream over HTTPS, so code asks for ``http://`` and the wire is
encrypted. ``CONNECT`` (what clients do for ``https://``) is tunnelled to a listed host unchanged: the
proxy cannot add headers inside TLS it does not terminate.

Where the proxy connects is not the sandbox's choice, nor the rule's alone: the runtime's outbound
guard (``atrium_agents.outbound``, handed in as ``EgressPolicy.guard``) resolves the host once and
refuses loopback, private and link-local addresses (the worker's Redis and Postgres, cloud metadata at
169.254.169.254) unless the operator allows them, and the proxy connects to the address it checked.
Ports are 80, 443 and a rule's own ``port``, plus those the operator allows. Without a guard
nothing goes out. The secret values never enter the sandbox:
not its environment or files; and should an upstream echo one in its answer, the proxy overwrites it
with ``*`` (asking for an uncompressed answer so it can) before relaying.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from typing_extensions import TypedDict

from atrium_agents.outbound import OutboundPort

logger = logging.getLogger(__name__)

SANDBOX_DIR = "/run/egress"
SOCKET_NAME = "egress.sock"
FORWARDER_NAME = "forward.py"
FORWARD_PORT = 3128
PROXY_URL = f"http://127.0.0.1:{FORWARD_PORT}"

_MAX_HEAD = 64 * 1024
_CONNECT_TIMEOUT = 10.0
_IDLE_TIMEOUT = 300.0
_DRAIN_SECONDS = 5.0
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9\-.]*[A-Za-z0-9])?$")
_HEADER = re.compile(r"^[A-Za-z0-9\-]+$")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "upgrade"}
_WEB_PORTS = frozenset({80, 443})


class EgressRuleSpec(TypedDict, total=False):
    """One rule as an assistant's settings hold it (flat, so it round-trips through JSON).

    ``{"host": "api.example.com", "header": "Authorization", "value": "Bearer ${EXAMPLE_KEY}",
    "tls": true}``: requests to the host are allowed; ``header``/``value`` (optional) is set on every
    plain-HTTP request to it; several rules for one host add several headers. ``port`` (optional)
    allows that port besides 80 and 443.
    """

    host: str
    header: str
    value: str
    tls: bool
    port: int


class EgressError(ValueError):
    """A rule is malformed (raised when settings are validated, before any run)."""


@dataclass(frozen=True)
class EgressRule:
    host: str
    headers: tuple[tuple[str, str], ...] = ()
    tls: bool = False
    ports: tuple[int, ...] = ()

    def matches(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
        return host == self.host


def parse_rules(specs: Iterable[Mapping[str, Any]]) -> tuple[EgressRule, ...]:
    """Rules from settings, merged per host; raises `EgressError` naming what is wrong."""
    merged: dict[str, tuple[list[tuple[str, str]], bool, set[int]]] = {}
    for spec in specs:
        host = str(spec.get("host") or "").lower().rstrip(".")
        if not _HOST.match(host):
            raise EgressError(f"egress host {host!r} is not a host name (or *.domain)")
        header, value = spec.get("header"), spec.get("value")
        if (header is None) != (value is None):
            raise EgressError(f"egress rule for {host} needs both 'header' and 'value', or neither")
        port = spec.get("port")
        if port is not None and (type(port) is not int or not 0 < port < 65536):
            raise EgressError(f"egress port {port!r} for {host} is not a port number")
        headers, tls, ports = merged.setdefault(host, ([], False, set()))
        if header is not None:
            if not _HEADER.match(str(header)) or "\r" in str(value) or "\n" in str(value):
                raise EgressError(f"egress header {header!r} for {host} is not a valid header")
            headers.append((str(header), str(value)))
        if port is not None:
            ports.add(port)
        merged[host] = (headers, tls or bool(spec.get("tls", False)), ports)
    return tuple(
        EgressRule(host, tuple(headers), tls, tuple(sorted(ports)))
        for host, (headers, tls, ports) in merged.items()
    )


def secret_names(rules: Iterable[EgressRule]) -> set[str]:
    return {name for rule in rules for _, value in rule.headers for name in _REFERENCE.findall(value)}


@dataclass(frozen=True)
class EgressPolicy:
    """The rules of an assistant plus the secrets their ``${NAME}`` references resolve to."""

    rules: tuple[EgressRule, ...]
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # The runtime's outbound guard for this run (see the module's docstring); None refuses everything.
    guard: OutboundPort | None = field(default=None, repr=False, compare=False)

    def connect(self, rule: EgressRule, host: str, port: int) -> socket.socket:
        """A connection to ``host:port`` for ``rule``, at the address the guard checked. Raises
        PermissionError when the port or the address is refused, OSError when it cannot connect."""
        if self.guard is None:
            raise PermissionError("this runtime provides no outbound guard, so egress is off")
        if port not in _WEB_PORTS and port not in rule.ports and port not in self.guard.egress_ports:
            raise PermissionError(f"port {port} is not allowed for {host}")
        address = self.guard.egress_address(host, port)
        return socket.create_connection((address, port), timeout=_CONNECT_TIMEOUT)

    def rule_for(self, host: str) -> EgressRule | None:
        # The most specific rule wins: an exact host before a wildcard covering it.
        exact = [r for r in self.rules if not r.host.startswith("*.") and r.matches(host)]
        wild = [r for r in self.rules if r.host.startswith("*.") and r.matches(host)]
        wild.sort(key=lambda r: -len(r.host))
        return (exact + wild)[0] if exact or wild else None

    def headers_for(self, rule: EgressRule) -> list[tuple[str, str]]:
        """The rule's headers with secrets substituted; raises KeyError naming a missing secret."""

        def resolve(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.secrets:
                raise KeyError(name)
            return self.secrets[name]

        return [(name, _REFERENCE.sub(resolve, value)) for name, value in rule.headers]

    def secret_values(self, rule: EgressRule) -> list[bytes]:
        """The values of the secrets the rule's headers reference (longest first, for masking)."""
        names = {name for _, value in rule.headers for name in _REFERENCE.findall(value)}
        values = {self.secrets[name].encode() for name in names if len(self.secrets.get(name, "")) >= 4}
        return sorted(values, key=len, reverse=True)


class EgressProxy:
    """One proxy on a unix socket, for the length of one command (a context manager).

    ``directory`` is the host directory to bind at `SANDBOX_DIR`; it holds the socket and the forwarder
    and is removed on exit. Connections are served by daemon threads that end with their sockets.
    """

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.directory = Path(tempfile.mkdtemp(prefix="atrium-egress-"))  # short: AF_UNIX paths are ≤107

    def __enter__(self) -> EgressProxy:
        try:
            self.directory.chmod(0o755)  # bwrap (as the sandbox uid when the worker is root) binds it
            (self.directory / FORWARDER_NAME).write_text(_FORWARDER)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(self.directory / SOCKET_NAME))
            os.chmod(self.directory / SOCKET_NAME, 0o666)  # noqa: S103  # the sandbox uid connects
            listener.listen(64)
            self._listener = listener
            threading.Thread(target=self._accept, name="egress-accept", daemon=True).start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- serving -----------------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="egress-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._connections.add(client)
        upstream: socket.socket | None = None
        try:
            client.settimeout(_IDLE_TIMEOUT)
            head, rest = _read_head(client)
            parts = head.split("\r\n", 1)[0].split(" ") if head is not None else []
            if head is None or len(parts) != 3:
                return _answer(client, 400, "malformed request")
            masks: list[bytes] = []
            if parts[0] == "CONNECT":
                upstream = self._tunnel(client, parts[1])
            else:
                upstream, masks = self._forward(client, head, parts)
            if upstream is not None:
                upstream.sendall(rest)
                upstream.settimeout(_IDLE_TIMEOUT)
                _relay(client, upstream, masks)
        except OSError as exc:
            with contextlib.suppress(OSError):
                _answer(client, 502, f"upstream unreachable: {type(exc).__name__}")
        finally:
            for sock in (upstream, client):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()
            with self._lock:
                self._connections.discard(client)

    def _tunnel(self, client: socket.socket, target: str) -> socket.socket | None:
        """``CONNECT host:port``: a byte tunnel to a listed host (TLS end to end; nothing injected)."""
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        rule = self._policy.rule_for(host)
        if rule is None or not port.isdigit():
            _answer(client, 403, f"egress to {host or target} is not allowed")
            return None
        try:
            upstream = self._policy.connect(rule, host, int(port))
        except PermissionError as exc:
            _answer(client, 403, f"egress to {host}:{port} is not allowed: {exc}")
            return None
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        logger.info("egress CONNECT %s:%s", host, port)
        return upstream

    def _forward(
        self, client: socket.socket, head: str, parts: list[str]
    ) -> tuple[socket.socket | None, list[bytes]]:
        """``METHOD http://host/path``: to a listed host, with the rule's headers set. Also returns the
        secret values used, which are masked in the response should the upstream echo them."""
        method, target, version = parts
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            _answer(client, 400, "send absolute http:// URLs (https:// goes through CONNECT)")
            return None, []
        rule = self._policy.rule_for(url.hostname)
        if rule is None:
            _answer(client, 403, f"egress to {url.hostname} is not allowed")
            return None, []
        try:
            injected = self._policy.headers_for(rule)
        except KeyError as missing:
            _answer(client, 502, f"secret {missing.args[0]} is not set in this workspace")
            return None, []
        masks = self._policy.secret_values(rule)
        port = url.port or (443 if rule.tls else 80)
        try:
            upstream = self._policy.connect(rule, url.hostname, port)
        except PermissionError as exc:
            _answer(client, 403, f"egress to {url.hostname}:{port} is not allowed: {exc}")
            return None, []
        if rule.tls:
            upstream = ssl.create_default_context().wrap_socket(upstream, server_hostname=url.hostname)
        dropped = {name.lower() for name, _ in injected} | _HOP_BY_HOP | {"host"}
        if masks:
            dropped.add("accept-encoding")  # an uncompressed answer, so an echoed secret can be masked
        kept = [line for line in head.split("\r\n")[1:] if _header_name(line) not in dropped]
        host = url.hostname if url.port is None else f"{url.hostname}:{url.port}"
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        lines = [f"{method} {path} {version}", f"Host: {host}", *kept]
        lines += [f"{name}: {value}" for name, value in injected] + ["Connection: close"]
        upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        logger.info("egress %s %s://%s%s", method, "https" if rule.tls else "http", host, url.path)
        return upstream, masks


def _header_name(line: str) -> str:
    return line.split(":", 1)[0].strip().lower()


def _read_head(sock: socket.socket) -> tuple[str | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk or len(data) > _MAX_HEAD:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def _answer(sock: socket.socket, status: int, message: str) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = f"[egress proxy] {message}\n".encode()
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)


def _relay(a: socket.socket, b: socket.socket, masks: list[bytes]) -> None:
    """Copy both ways until either side closes; what ``b`` sends has each of ``masks`` overwritten."""

    def pump(src: socket.socket, dst: socket.socket, masks: list[bytes]) -> None:
        masker = _Masker(masks)
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                dst.sendall(masker.feed(chunk))
            dst.sendall(masker.flush())
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=pump, args=(a, b, []), daemon=True)
    other.start()
    pump(b, a, masks)
    other.join(timeout=_DRAIN_SECONDS)  # then the caller closes both, which ends the other pump


class _Masker:
    """Overwrites secrets in a byte stream with ``*`` of the same length (so HTTP framing, whether
    Content-Length or chunked, stays valid), holding back just enough bytes to catch a secret split
    across two reads."""

    def __init__(self, masks: list[bytes]) -> None:
        self._masks = masks
        self._keep = max((len(m) for m in masks), default=1) - 1
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        if not self._masks:
            return chunk
        data = self._mask(self._pending + chunk)
        cut = max(0, len(data) - self._keep)
        self._pending = data[cut:]
        return data[:cut]

    def flush(self) -> bytes:
        data, self._pending = self._mask(self._pending), b""
        return data

    def _mask(self, data: bytes) -> bytes:
        for mask in self._masks:
            data = data.replace(mask, b"*" * len(mask))
        return data


# Runs inside the sandbox (python3 -I): listens on the sandbox's loopback, then forks into the
# background so the command starts only once the port is open; relays each connection to the socket.
_FORWARDER = f"""
import os, socket, sys, threading
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", {FORWARD_PORT}))
server.listen(64)
if os.fork():
    os._exit(0)
os.setsid()
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
def pump(src, dst):
    try:
        while True:
            chunk = src.recv(65536)
            if not chunk:
                break
            dst.sendall(chunk)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
def serve(conn):
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        up.connect("{SANDBOX_DIR}/{SOCKET_NAME}")
    except OSError:
        conn.close()
        return
    other = threading.Thread(target=pump, args=(conn, up), daemon=True)
    other.start()
    pump(up, conn)
    other.join(5)
    conn.close()
    up.close()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""
