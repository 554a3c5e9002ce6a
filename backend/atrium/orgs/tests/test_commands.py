from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from atrium.orgs.models import Membership
from atrium.orgs.services import api_key_authenticate


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_api_key_provisions_org_user_membership_and_prints_the_key_last(db):
    lines = run("create_api_key", "--org", "demo", "--email", "alice@demo.local", "--role", "editor")
    found = api_key_authenticate(plaintext=lines[-1])
    assert found is not None
    _, membership = found
    assert (membership.org.slug, membership.user.email, membership.role) == (
        "demo",
        "alice@demo.local",
        "builder",  # the old name an operator may still type
    )


def test_create_api_key_keeps_an_existing_role_unless_told(db):
    run("create_api_key", "--org", "demo", "--email", "bob@demo.local", "--role", "admin")
    run("create_api_key", "--org", "demo", "--email", "bob@demo.local")
    assert Membership.unscoped.get(user__email="bob@demo.local").role == "admin"
    assert Membership.unscoped.filter(user__email="bob@demo.local").count() == 1


def test_seed_demo_is_idempotent_and_lets_the_users_log_in(db, client):
    run("seed_demo")
    run("seed_demo")
    roles = dict(Membership.unscoped.filter(org__slug="demo").values_list("user__email", "role"))
    assert roles == {
        "admin@demo.local": "admin",
        "builder@demo.local": "builder",
        "user@demo.local": "end_user",
        "viewer@demo.local": "viewer",
    }
    assert client.login(username="viewer@demo.local", password="atrium-demo")
