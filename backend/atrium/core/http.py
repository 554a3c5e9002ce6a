"""Outbound HTTP: the one guard for requests made for users (webhooks, OAuth providers, connected
APIs, the sandbox egress proxy), with timeouts, no redirects, a total deadline and a size cap.

The guard resolves the host, refuses any address that is not publicly routable (loopback, private,
link-local — which covers cloud metadata at 169.254.169.254 —, carrier-grade NAT, multicast,
reserved, unspecified, and IPv4 carried inside IPv6: mapped, compatible, NAT64, 6to4, Teredo) unless
the caller allows private addresses, and then connects to the address it checked: the hostname is sent
as the `Host` header and the TLS server name, so a DNS answer that changes between the check and the
connection (rebinding) cannot redirect the request. The check and the pin happen in one place, the
transport (`GuardedTransport`), for every request a client built here sends. Redirects are not
followed: a public URL answering `302 Location: http://10.0.0.1/` would otherwise undo the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import httpx2

from atrium.core.errors import ValidationFailedError

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Atrium/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges that carry an IPv4 address: a gateway on the path turns them into that IPv4 address, so
# 64:ff9b::7f00:1 is 127.0.0.1 on a network with NAT64. The local-use NAT64 prefix (RFC 8215) may embed
# the address anywhere and is never public.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)


class UnsafeURLError(ValidationFailedError):
    """The URL is malformed, or its host resolves to an address the guard refuses."""

    code = "unsafe_url"


class UnresolvableURLError(UnsafeURLError):
    """The URL's host did not resolve (now): a caller may try again later."""


@dataclass(frozen=True)
class Target:
    """A URL whose host was resolved and checked: where to connect, and what to call it."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, translated, NAT64, 6to4, Teredo
    client)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _IPV4_TRANSLATED or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Publicly routable, and so is any IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL or address.is_site_local:  # site-local: deprecated, never public
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            # A mapped address is its IPv4 address; the others must be public on both counts.
            return is_public(inner) and (address.ipv4_mapped is not None or address.is_global)
    return address.is_global and not address.is_multicast


def redacted_url(url: str) -> str:
    """The URL without its query string and fragment (they may carry tokens), for logs and pages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    query = "?…" if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", "")) + query


def split_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an absolute http(s) URL; UnsafeURLError for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURLError(f"Invalid URL {url!r}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError(f"The URL must be absolute http:// or https://, got {url!r}.")
    if parts.username or parts.password:
        raise UnsafeURLError("The URL must not carry credentials; use a signed webhook instead.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_literal(url: str, *, allow_private: bool) -> None:
    """The checks that need no DNS: syntax, and a literal IP or `localhost` host. For request-time
    validation; `resolve` repeats them with the resolved addresses before connecting."""
    _, host, _ = split_url(url)
    if allow_private:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeURLError(f"{host} is a loopback host; private addresses are not allowed.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not is_public(address):
        raise UnsafeURLError(f"{host} is not a public address; private addresses are not allowed.")


def lookup(host: str, port: int) -> list[IPAddress]:
    """The host's addresses: the one resolver the guard uses (tests stand a rebinding DNS in here)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def resolve_host(host: str, port: int, *, allow_private: bool) -> IPAddress:
    """Resolve a host once and check every address it has (one bad answer refuses it); the address to
    connect to. UnresolvableURLError when it does not resolve, UnsafeURLError when it is refused."""
    host = host.strip("[]")
    try:
        addresses = lookup(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnresolvableURLError(f"Cannot resolve {host}: {exc}.") from None
    if not addresses:
        raise UnresolvableURLError(f"Cannot resolve {host}.")
    if not allow_private:
        refused = sorted({str(a) for a in addresses if not is_public(a)})
        if refused:
            raise UnsafeURLError(
                f"{host} resolves to {', '.join(refused)}, which is not a public address; "
                "private addresses are not allowed."
            )
    return addresses[0]


def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and check every address it has (one bad answer refuses the URL)."""
    scheme, host, port = split_url(url)
    address = resolve_host(host, port, allow_private=allow_private)
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, address=address)


class _Sender(Protocol):
    def handle_request(self, request: Any) -> Any: ...
    def close(self) -> None: ...


def _pin(request: Any, *, allow_private: bool) -> None:
    """Check the request's host and point the request at the checked address. The `Host` header the
    client set from the URL stays; TLS verifies the certificate against the hostname (SNI)."""
    target = resolve(str(request.url), allow_private=allow_private)
    request.url = request.url.copy_with(host=str(target.address))
    if target.scheme == "https":
        request.extensions = {**request.extensions, "sni_hostname": target.host}


class GuardedTransport(httpx.BaseTransport):
    """Checks and pins every request, then sends it with `inner` (a plain transport by default).

    `inner` may be the transport of httpx2 (Authlib's stack): its requests have the same URL and
    extensions interface, so one guard serves both."""

    def __init__(self, *, allow_private: bool, inner: _Sender | None = None) -> None:
        self._allow_private = allow_private
        self._inner: _Sender = inner or httpx.HTTPTransport(trust_env=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _pin(request, allow_private=self._allow_private)
        response: httpx.Response = self._inner.handle_request(request)
        return response

    def close(self) -> None:
        self._inner.close()


class AsyncGuardedTransport(httpx2.AsyncBaseTransport):
    """`GuardedTransport` for asyncio clients of httpx2, the stack the `mcp` SDK's clients use: the
    check resolves the host off the event loop, then the request goes to the checked address."""

    def __init__(self, *, allow_private: bool, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self._allow_private = allow_private
        self._inner = inner or httpx2.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await asyncio.to_thread(_pin, request, allow_private=self._allow_private)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def client(*, allow_private: bool, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    """A client whose every request is checked and pinned, with no redirects and no proxies."""
    return httpx.Client(
        transport=GuardedTransport(allow_private=allow_private),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True)
class Answer:
    """A response read up to a byte cap: `truncated` when the server had more to send."""

    status: int
    body: bytes
    truncated: bool

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class DeadlineExceededError(httpx.TimeoutException):
    """The whole exchange (connect, send, read) took longer than its deadline."""


class _Deadline:
    """Cuts a synchronous exchange off at a wall-clock deadline: per-phase timeouts restart with every
    byte, so a server dripping one byte a second would otherwise hold the worker for ever. httpcore
    reports each socket it opens through the `trace` extension; at the deadline the socket is shut
    down, which wakes the blocked read."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._socket = sock
                if self.expired:
                    self._shutdown()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also under TLS: it ends the blocked read without
                # touching the TLS object another thread is using.
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def send(
    method: str,
    url: str,
    *,
    allow_private: bool,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    deadline: float,
    max_response_bytes: int,
) -> Answer:
    """One guarded request, bounded: at most `deadline` seconds in all and `max_response_bytes` read
    (the rest is not read, and the connection is dropped). Raises UnsafeURLError when the guard
    refuses the URL, httpx.HTTPError (DeadlineExceededError at the deadline) when the exchange fails."""
    limit = httpx.Timeout(
        connect=min(timeout.connect or deadline, deadline),
        read=min(timeout.read or deadline, deadline),
        write=min(timeout.write or deadline, deadline),
        pool=min(timeout.pool or deadline, deadline),
    )
    # Identity encoding: the cap counts the bytes the server sends, not what a gzip bomb inflates to.
    sent = {"Accept-Encoding": "identity", **(headers or {})}
    with _Deadline(deadline) as cutoff, client(allow_private=allow_private, timeout=limit) as http:
        request = http.build_request(method, url, content=content, headers=sent)
        request.extensions["trace"] = cutoff.trace
        body = bytearray()
        try:
            response = http.send(request, stream=True)
            try:
                for chunk in response.iter_raw():
                    body += chunk
                    if len(body) > max_response_bytes or time.monotonic() > cutoff.ends:
                        break
            finally:
                response.close()
            status = response.status_code
        except httpx.HTTPError:
            if cutoff.expired:
                raise DeadlineExceededError(f"no complete answer within {deadline:g} s") from None
            raise
        if cutoff.expired or time.monotonic() > cutoff.ends:
            raise DeadlineExceededError(f"no complete answer within {deadline:g} s")
    return Answer(
        status=status, body=bytes(body[:max_response_bytes]), truncated=len(body) > max_response_bytes
    )
