"""The address a request came from, for per-address limits (sign-in throttling).

Behind reverse proxies the socket's peer is the nearest proxy; each proxy appends the address it was
connected from to `X-Forwarded-For`. Only the entries the deployment's own proxies appended can be
trusted (a client may send any header it likes), so `ATRIUM_TRUSTED_PROXY_HOPS` says how many there
are: 0 (the default) ignores the header; N takes the N-th entry from the right.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    hops = settings.ATRIUM_TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
