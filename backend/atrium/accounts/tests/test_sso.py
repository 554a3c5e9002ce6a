"""OpenID Connect sign-in for the web app against a real provider (Authlib server on loopback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import Member
from django.test import Client
from joserfc.jwk import RSAKey

from atrium.accounts import oidc
from atrium.accounts.models import ExternalIdentity, User
from atrium.accounts.tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, Person
from atrium.orgs.models import Membership

CALLBACK = "http://testserver/api/v1/auth/oidc/corp/callback"


@pytest.fixture
def idp() -> Iterator[OidcProvider]:
    yield from OidcProvider(CALLBACK).serve()


@pytest.fixture
def configure(settings: Any, idp: OidcProvider) -> Iterator[Callable[..., None]]:
    def use(**overrides: Any) -> None:
        settings.ATRIUM_OIDC_PROVIDERS = [
            {
                "slug": "corp",
                "name": "Corp SSO",
                "issuer": idp.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "org": "acme",
                "role": "viewer",
                "create_users": True,
                **overrides,
            }
        ]
        oidc.reset()

    use()
    yield use
    oidc.reset()


def sign_in(client: Client, idp: OidcProvider, person: Person, *, next_path: str = "/threads") -> Any:
    """The browser's round trip: Atrium → provider → Atrium's callback. Returns the callback's answer."""
    idp.sign_in_as(person)
    start = client.get(f"/api/v1/auth/oidc/corp/login?next={next_path}")
    assert start.status_code == 302, start.content
    authorize = start["Location"]
    assert authorize.startswith(f"{idp.issuer}/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"]
    assert query["state"]
    at_provider = httpx.get(authorize, follow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(f"{back.path}?{back.query}")


@pytest.mark.django_db
def test_a_new_person_is_created_made_a_member_and_signed_in(
    admin: Member, configure: Any, idp: OidcProvider
) -> None:
    client = Client()
    done = sign_in(client, idp, Person(sub="u-1", email="New.Person@acme.test", name="New Person"))
    assert (done.status_code, done["Location"]) == (302, "/threads")
    me = client.get("/api/v1/me").json()
    assert me["email"] == "new.person@acme.test"
    assert [(m["org"]["slug"], m["role"]) for m in me["memberships"]] == [("acme", "viewer")]
    user = User.objects.get(email="new.person@acme.test")
    assert not user.has_usable_password()
    # Signing in again with the same subject, even under a new email, is the same account
    again = Client()
    sign_in(again, idp, Person(sub="u-1", email="renamed@acme.test"))
    assert again.get("/api/v1/me").json()["id"] == user.id
    assert ExternalIdentity.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_an_existing_member_is_linked_by_verified_email_and_keeps_their_role(
    editor: Member, configure: Any, idp: OidcProvider
) -> None:
    client = Client()
    sign_in(client, idp, Person(sub="e-1", email="editor@acme.test"))
    me = client.get("/api/v1/me").json()
    assert me["id"] == editor.user.id
    assert Membership.unscoped.get(user=editor.user).role == "builder"
    assert ExternalIdentity.objects.get(user=editor.user).subject == "e-1"


def refused_with(response: Any) -> str:
    """The reason the login page is sent back with (`/login?sso_error=...`)."""
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert location.path == "/login"
    return parse_qs(location.query)["sso_error"][0]


NO_ACCOUNT = "No Atrium account matches this sign-in."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "person", "reason"),
    [
        ({}, Person(sub="x-1", email="editor@acme.test", email_verified=False), NO_ACCOUNT),
        ({"create_users": False}, Person(sub="x-2", email="stranger@acme.test"), NO_ACCOUNT),
        (
            {"allowed_domains": ["acme.test"]},
            Person(sub="x-3", email="someone@evil.test"),
            "Accounts of evil.test may not sign in here.",
        ),
    ],
)
def test_who_may_not_sign_in_is_refused_and_nothing_is_written(
    editor: Member, configure: Any, idp: OidcProvider, overrides: dict[str, Any], person: Person, reason: str
) -> None:
    configure(**overrides)
    users_before = User.objects.count()
    client = Client()
    done = sign_in(client, idp, person)
    assert refused_with(done) == reason
    assert client.get("/api/v1/me").status_code == 401
    assert (User.objects.count(), ExternalIdentity.objects.count()) == (users_before, 0)


@pytest.mark.django_db
def test_a_forged_id_token_or_a_wrong_state_is_refused(
    admin: Member, configure: Any, idp: OidcProvider
) -> None:
    # An ID token signed with a key the provider never published
    idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    client = Client()
    done = sign_in(client, idp, Person(sub="f-1", email="forger@acme.test"))
    assert refused_with(done).startswith("Sign-in failed: the ID token is invalid")
    assert client.get("/api/v1/me").status_code == 401
    # A callback whose state this browser never asked for
    idp.signing_key = idp.key
    idp.sign_in_as(Person(sub="f-2", email="csrf@acme.test"))
    start = Client().get("/api/v1/auth/oidc/corp/login")
    at_provider = httpx.get(start["Location"], follow_redirects=False, timeout=10)
    victim = Client()
    victim.get("/api/v1/auth/oidc/corp/login")  # the victim has a flow of their own going
    done = victim.get(
        urlsplit(at_provider.headers["location"]).path + "?" + urlsplit(at_provider.headers["location"]).query
    )
    assert refused_with(done) == "Sign-in failed: CSRF Warning! State not equal in request and response."
    assert not User.objects.filter(email__in=["forger@acme.test", "csrf@acme.test"]).exists()


@pytest.mark.django_db
def test_an_unsafe_next_is_replaced_and_an_unknown_provider_is_404(
    admin: Member, configure: Any, idp: OidcProvider
) -> None:
    done = sign_in(Client(), idp, Person(sub="n-1", email="next@acme.test"), next_path="https://evil.test/")
    assert done["Location"] == "/"
    assert Client().get("/api/v1/auth/oidc/nope/login").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "other_org", "viewer", "editor", "admin"])
def test_the_provider_list_is_public_and_holds_no_secret(
    client_for: Callable[[str], Client], configure: Any, who: str
) -> None:
    response = client_for(who).get("/api/v1/auth/oidc/providers")
    assert response.status_code == 200
    assert response.json() == [
        {"slug": "corp", "name": "Corp SSO", "login_url": "/api/v1/auth/oidc/corp/login"}
    ]
    assert CLIENT_SECRET not in response.content.decode()
