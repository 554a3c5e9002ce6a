"""The Django admin is org-aware: superusers see all, an org admin sees only their org's rows."""

from __future__ import annotations

from django.test import Client

from atrium.accounts.models import User
from atrium.assistants.services import assistant_create
from atrium.core.tenancy import scoped
from atrium.orgs.services import api_key_create


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_org_admin_sees_only_their_orgs_assistants(admin, outsider):
    with scoped(admin.scope()):
        assistant_create(graph_id="echo", name="Ours")
    with scoped(outsider.scope()):
        assistant_create(graph_id="echo", name="Theirs")
    page = admin_client(admin.user).get("/admin/assistants/assistant/").content.decode()
    assert "Ours" in page
    assert "Theirs" not in page


def test_a_superuser_sees_every_org(admin, outsider):
    with scoped(outsider.scope()):
        assistant_create(graph_id="echo", name="Theirs")
    root = User.objects.create_superuser("root@atrium.test", "pw-123456789")
    assert "Theirs" in admin_client(root).get("/admin/assistants/assistant/").content.decode()


def test_viewers_and_editors_cannot_use_the_admin(editor, viewer):
    for member in (editor, viewer):
        response = admin_client(member.user).get("/admin/assistants/assistant/")
        assert response.status_code == 302  # to the login page


def test_another_orgs_row_is_not_reachable_by_url(admin, outsider):
    with scoped(outsider.scope()):
        foreign = assistant_create(graph_id="echo", name="Theirs")
    response = admin_client(admin.user).get(f"/admin/assistants/assistant/{foreign.id}/change/")
    assert response.status_code == 302  # "does not exist" redirect to the index


def test_api_key_secrets_are_never_shown(admin, editor):
    with scoped(admin.scope()):
        key, plaintext = api_key_create(user=editor.user, name="ci")
    client = admin_client(admin.user)
    pages = [
        client.get("/admin/orgs/apikey/").content.decode(),
        client.get(f"/admin/orgs/apikey/{key.id}/change/").content.decode(),
    ]
    stored = type(key).unscoped.get(id=key.id).hashed_secret
    for page in pages:
        assert key.prefix in page
        assert plaintext not in page
        assert stored not in page


def test_every_model_is_registered():
    from django.apps import apps
    from django.contrib import admin as django_admin

    ours = [
        m
        for m in apps.get_models()
        if m.__module__.startswith("atrium.") and m.__name__ != "AssistantVersion"
    ]
    assert ours
    assert all(django_admin.site.is_registered(m) for m in ours)
