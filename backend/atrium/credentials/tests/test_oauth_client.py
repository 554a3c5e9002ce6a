"""Provider URLs go through the platform's one SSRF guard (core/http.py) before any call."""

from __future__ import annotations

from typing import Any

import pytest

from atrium.credentials import oauth_client
from atrium.credentials.oauth_client import ProviderError
from atrium.credentials.tests import factories


@pytest.mark.django_db
@pytest.mark.parametrize(
    "base_url",
    [
        "https://127.0.0.1:9",  # loopback
        "https://10.1.2.3",  # private
        "https://169.254.169.254",  # link-local: cloud metadata
        "https://100.64.0.1",  # carrier-grade NAT (not "private" to Python, not public either)
        "https://[::ffff:10.0.0.1]",  # IPv4 mapped into IPv6
        "https://localhost:9",
    ],
)
def test_a_provider_pointing_into_the_network_is_refused_for_good(
    admin: Any, settings: Any, base_url: str
) -> None:
    settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = False
    provider = factories.provider(admin.org, base_url=base_url)
    with pytest.raises(ProviderError) as raised:
        oauth_client.refresh(provider, refresh_token="r")
    assert raised.value.terminal  # the grant cannot work until an admin fixes the provider


@pytest.mark.django_db
def test_a_host_that_does_not_resolve_is_a_transient_failure(admin: Any, settings: Any) -> None:
    provider = factories.provider(admin.org, base_url="https://idp.does-not-exist.invalid")
    settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(ProviderError) as raised:
        oauth_client.refresh(provider, refresh_token="r")
    assert not raised.value.terminal


@pytest.mark.django_db
def test_private_hosts_are_allowed_when_the_deployment_says_so(admin: Any, settings: Any) -> None:
    settings.ATRIUM_OAUTH_ALLOW_PRIVATE_HOSTS = True
    provider = factories.provider(admin.org, base_url="http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ProviderError) as raised:
        oauth_client.refresh(provider, refresh_token="r")
    # the call was made and failed to connect (a transient failure, not a 500): the guard let it through
    assert not raised.value.terminal
    assert "ConnectError" in str(raised.value)
