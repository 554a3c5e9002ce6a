"""Outbound HTTP: the one client for requests to URLs that come from users (webhooks, and any later
integration), with timeouts, no redirects, and an SSRF guard.

The guard resolves the host, refuses any address that is not publicly routable (loopback, private,
link-local — which covers cloud metadata at 169.254.169.254 —, carrier-grade NAT, multicast,
reserved, unspecified, and IPv4 mapped into IPv6) unless the caller allows private addresses, and then
connects to the address it checked: the hostname is sent as the `Host` header and the TLS server name,
so a DNS answer that changes between the check and the connection (rebinding) cannot redirect the
request. Redirects are not followed: a public URL answering `302 Location: http://10.0.0.1/` would
otherwise undo the check.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from atrium.core.errors import ValidationFailedError

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Atrium-Webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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
    if not _is_public(address):
        raise UnsafeURLError(f"{host} is not a public address; private addresses are not allowed.")


def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and check every address it has (one bad answer refuses the URL)."""
    scheme, host, port = split_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableURLError(f"Cannot resolve {host}: {exc}.") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise UnresolvableURLError(f"Cannot resolve {host}.")
    if not allow_private:
        refused = sorted({str(a) for a in addresses if not _is_public(a)})
        if refused:
            raise UnsafeURLError(
                f"{host} resolves to {', '.join(refused)}, which is not a public address; "
                "private addresses are not allowed."
            )
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, address=addresses[0])


def post(
    target: Target,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> httpx.Response:
    """POST to a resolved target, connecting to the checked address. Raises httpx.HTTPError."""
    parts = urlsplit(target.url)
    literal = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    pinned = urlunsplit((parts.scheme, f"{literal}:{target.port}", parts.path or "/", parts.query, ""))
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        request = client.build_request(
            "POST",
            pinned,
            content=content,
            headers={"User-Agent": USER_AGENT, **headers, "Host": host_header},
            extensions=extensions,
        )
        return client.send(request)
