"""Shared fixtures: an org with one member per role, another org, and clients acting as each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client

from atrium.accounts.models import User
from atrium.accounts.services import user_create
from atrium.core.tenancy import Role, Scope, scoped
from atrium.orgs.models import Organization
from atrium.orgs.services import api_key_create, membership_ensure

# The live stack (a real uvicorn and Celery worker) is one per session, for every suite that uses it.
pytest_plugins = ["atrium.runtime.tests.live_stack"]

PASSWORD = "a-long-test-password"


@dataclass(frozen=True)
class Member:
    user: User
    org: Organization
    role: Role

    def scope(self) -> Scope:
        return Scope(user_id=self.user.id, org_id=self.org.id, org_slug=self.org.slug, role=self.role)


def _member(org: Organization, email: str, role: Role) -> Member:
    user = user_create(email=email, password=PASSWORD)
    membership_ensure(org=org, user=user, role=role)
    return Member(user=user, org=org, role=role)


@pytest.fixture
def org(db: None) -> Organization:
    return Organization.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_org(db: None) -> Organization:
    return Organization.objects.create(slug="globex", name="Globex")


@pytest.fixture
def admin(org: Organization) -> Member:
    return _member(org, "admin@acme.test", Role.ADMIN)


@pytest.fixture
def editor(org: Organization) -> Member:
    """A builder (the role was called editor): configures agents and uses them."""
    return _member(org, "editor@acme.test", Role.BUILDER)


@pytest.fixture
def end_user(org: Organization) -> Member:
    return _member(org, "user@acme.test", Role.END_USER)


@pytest.fixture
def viewer(org: Organization) -> Member:
    return _member(org, "viewer@acme.test", Role.VIEWER)


@pytest.fixture
def operator(db: None) -> User:
    """The deployment's operator: a Django superuser, member of no org."""
    user = user_create(email="operator@atrium.test", password=PASSWORD)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def outsider(other_org: Organization) -> Member:
    """An admin of another organisation: must see nothing of `org`."""
    return _member(other_org, "admin@globex.test", Role.ADMIN)


@pytest.fixture
def members(
    admin: Member, editor: Member, end_user: Member, viewer: Member, outsider: Member
) -> dict[str, Member]:
    return {"admin": admin, "editor": editor, "end_user": end_user, "viewer": viewer, "other_org": outsider}


@pytest.fixture
def client_for(members: dict[str, Member], request: pytest.FixtureRequest) -> Callable[[str], Client]:
    """A session client logged in as the named member ("anonymous" for none, "operator" for the
    deployment's superuser, created on first use)."""

    def make(who: str) -> Client:
        client = Client()
        if who == "operator":
            client.force_login(request.getfixturevalue("operator"))
        elif who != "anonymous":
            client.force_login(members[who].user)
        return client

    return make


@pytest.fixture
def api_key_for() -> Callable[[Member], str]:
    def make(member: Member) -> str:
        with scoped(Scope(user_id=None, org_id=member.org.id, org_slug=member.org.slug, role=Role.ADMIN)):
            _, plaintext = api_key_create(user=member.user, name="test")
        return plaintext

    return make


@pytest.fixture(autouse=True)
def _no_scope_leaks() -> Iterator[None]:
    """Every test starts and ends without a tenancy scope."""
    from atrium.core.tenancy import current_scope_or_none

    assert current_scope_or_none() is None
    yield
    assert current_scope_or_none() is None
