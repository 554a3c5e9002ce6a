"""The outbound client's SSRF guard: which URLs it refuses without allow_private, and which it lets by."""

from __future__ import annotations

import pytest

from atrium.core.http import UnsafeURLError, check_literal, redacted_url, resolve


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://172.16.5.4/x",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "http://100.64.0.1/x",  # carrier-grade NAT
        "http://0.0.0.0/x",
        "http://[::1]/x",
        "http://[fe80::1]/x",
        "http://[fd00::1]/x",
        "http://[::ffff:127.0.0.1]/x",  # IPv4 mapped into IPv6
        "http://224.0.0.1/x",
    ],
)
def test_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(UnsafeURLError):
        resolve(url, allow_private=False)
    assert resolve(url, allow_private=True).host


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "/relative/path", "http:///nohost", "http://user:pw@example.com/", "nonsense"],
)
def test_malformed_urls_are_refused_even_when_private_is_allowed(url):
    with pytest.raises(UnsafeURLError):
        check_literal(url, allow_private=True)


def test_a_public_literal_passes_and_is_the_address_connected_to():
    target = resolve("https://93.184.215.14:8443/hook?x=1", allow_private=False)
    assert (target.scheme, target.host, target.port, str(target.address)) == (
        "https",
        "93.184.215.14",
        8443,
        "93.184.215.14",
    )


def test_literal_checks_need_no_dns():
    check_literal("https://hooks.example.invalid/x", allow_private=False)  # checked at delivery
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_literal("http://api.localhost/x", allow_private=False)


def test_unresolvable_hosts_are_refused():
    with pytest.raises(UnsafeURLError, match="Cannot resolve"):
        resolve("https://no-such-host.invalid/x", allow_private=False)


def test_redacted_urls_drop_query_and_credentials():
    assert redacted_url("https://u:p@h.test/a/b?token=s#f") == "https://h.test/a/b?…"
    assert redacted_url("https://h.test/a") == "https://h.test/a"
