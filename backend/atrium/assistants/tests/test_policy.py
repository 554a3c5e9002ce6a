"""The one rule where builders' settings meet admins' approvals (atrium.assistants.policy)."""

from __future__ import annotations

import pytest

from atrium.assistants.policy import Approvals, base_url_approved, host_approved, settings_violations

APPROVED = ["https://api.example.com/v1"]


@pytest.mark.parametrize(
    ("url", "approved"),
    [
        ("https://api.example.com/v1", True),
        ("https://api.example.com/v1/", True),
        ("https://api.example.com/v1/deals", True),
        ("https://API.example.com/v1/deals", True),
        ("https://api.example.com/v10", False),
        ("http://api.example.com/v1", False),
        ("https://api.example.com:8443/v1", False),
        ("https://api.example.com/v1/../admin", False),
        ("https://api.example.com/v1/%2e%2e/admin", False),
        ("https://api.example.com/v1/a%2Fb", False),
        ("https://api.example.com/v1\\..\\admin", False),
        ("https://user@api.example.com/v1", False),
        ("https://api.example.com.evil.example/v1", False),
        ("https://api.example.com@evil.example/v1", False),
    ],
)
def test_a_base_url_is_approved_only_under_an_approved_one(url: str, approved: bool) -> None:
    assert base_url_approved(url, APPROVED) is approved


@pytest.mark.parametrize(
    ("host", "approved"),
    [
        ("api.example.com", True),
        ("API.example.com.", True),
        ("eu.files.example.org", True),
        ("files.example.org", False),  # "*." means subdomains only
        ("example.com", False),
        ("api.example.com.evil.example", False),
    ],
)
def test_a_host_is_approved_exactly_or_as_a_subdomain_of_a_pattern(host: str, approved: bool) -> None:
    assert host_approved(host, ["api.example.com", "*.files.example.org"]) is approved


def test_each_layer_is_checked_on_its_own() -> None:
    approvals = Approvals(egress_hosts=("ok.example",), secrets=frozenset({"GRANTED"}))
    layers = (
        {"sandbox_egress": [{"host": "evil.example", "value": "${OTHER}"}]},
        {"sandbox_egress": [{"host": "ok.example", "value": "${GRANTED}"}]},
    )
    assert settings_violations(layers, approvals) == [
        "sandbox_egress: host 'evil.example' is not approved by an admin",
        "sandbox_egress: secret ${OTHER} is not granted to this assistant by an admin",
    ]
