"""Outbound calls for users: IPv4 smuggled inside IPv6 is refused, and the OAuth client connects to the
address the guard checked (a DNS answer that changes between check and connection changes nothing)."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx2
import pytest

from atrium.core import http
from atrium.credentials import oauth_client
from atrium.credentials.oauth_client import ProviderError
from atrium.credentials.tests import factories

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT) of 127.0.0.1
        "fec0::1",  # site-local (deprecated)
        "::ffff:169.254.169.254",  # IPv4-mapped
    ],
)
def test_ipv4_inside_ipv6_is_refused_by_literal_and_by_dns(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    # given: a host whose DNS answer is an IPv6 address carrying a private IPv4 one
    monkeypatch.setattr(http, "lookup", lambda host, port: [ipaddress.ip_address(address)])

    # when / then: refused either way, and allowed only when private addresses are
    with pytest.raises(http.UnsafeURLError):
        http.check_literal(f"http://[{address}]/hook", allow_private=False)
    with pytest.raises(http.UnsafeURLError, match="not a public address"):
        http.resolve("https://hooks.example.test/hook", allow_private=False)
    assert http.resolve(
        "https://hooks.example.test/hook", allow_private=True
    ).address == ipaddress.ip_address(address)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700:4700::1111", PUBLIC])
def test_public_addresses_in_every_form_pass(address: str) -> None:
    http.check_literal(
        f"http://[{address}]/" if ":" in address else f"http://{address}/", allow_private=False
    )


class _Rebinding:
    """A DNS that answers a public address to the first question and loopback to every later one."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def __call__(self, host: str, port: int) -> list[http.IPAddress]:
        self.questions.append(host)
        return [ipaddress.ip_address(PUBLIC if len(self.questions) == 1 else "127.0.0.1")]


class _Provider:
    """Stands in for the outside authorization server at the far end of the socket: records where the
    connection was opened and for which host, and grants a token."""

    def __init__(self, **kwargs: Any) -> None:
        self.seen: list[tuple[str, str, str | None]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        sni = request.extensions.get("sni_hostname")
        self.seen.append((request.url.host, request.headers["Host"], sni))
        return httpx2.Response(200, json={"access_token": "fresh", "token_type": "Bearer", "expires_in": 60})

    def close(self) -> None:
        pass


@pytest.mark.django_db
def test_the_oauth_client_connects_to_the_address_it_checked(
    admin: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a provider whose host rebinds to loopback after the first DNS answer
    settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = False
    dns = _Rebinding()
    monkeypatch.setattr(http, "lookup", dns)
    far_end = _Provider()
    monkeypatch.setattr(oauth_client, "HTTP_TRANSPORT", lambda **kwargs: far_end)
    provider = factories.provider(admin.org, base_url="https://idp.rebind.example")

    # when
    token = oauth_client.refresh(provider, refresh_token="r")

    # then: one question, and the connection went to its (public) answer, named by the hostname
    assert token["access_token"] == "fresh"
    assert dns.questions == ["idp.rebind.example"]
    assert far_end.seen == [(PUBLIC, "idp.rebind.example", "idp.rebind.example")]


@pytest.mark.django_db
def test_a_provider_host_answering_loopback_first_is_refused_before_any_connection(
    admin: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = False
    monkeypatch.setattr(http, "lookup", lambda host, port: [ipaddress.ip_address("64:ff9b::7f00:1")])
    far_end = _Provider()
    monkeypatch.setattr(oauth_client, "HTTP_TRANSPORT", lambda **kwargs: far_end)
    provider = factories.provider(admin.org, base_url="https://idp.rebind.example")

    # when
    with pytest.raises(ProviderError) as raised:
        oauth_client.refresh(provider, refresh_token="r")

    # then: refused for good, and nothing was sent anywhere
    assert raised.value.terminal
    with pytest.raises(ProviderError):
        oauth_client.revoke(provider, token="t", hint="access_token")
    assert far_end.seen == []
