"""The admin: secrets are write-only, tokens never shown, other orgs' rows invisible."""

from __future__ import annotations

from django.test import Client

from atrium.core.tenancy import system_scope
from atrium.credentials import vault
from atrium.credentials.models import WorkspaceSecret
from atrium.credentials.tests import factories


def admin_client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_admin_pages_never_show_a_secret_or_token(admin, outsider):
    secret = factories.secret(admin.org, value="sk-admin-visible?")
    provider = factories.provider(admin.org, client_secret="client-secret-visible?")
    conn = factories.connection(
        provider, admin.user, access_token="access-visible?", refresh_token="refresh-visible?"
    )
    factories.secret(outsider.org, name="GLOBEX_ONLY")
    client = admin_client(admin)
    pages = [
        "/admin/credentials/workspacesecret/",
        f"/admin/credentials/workspacesecret/{secret.id}/change/",
        "/admin/credentials/oauthprovider/",
        f"/admin/credentials/oauthprovider/{provider.id}/change/",
        "/admin/credentials/oauthconnection/",
        f"/admin/credentials/oauthconnection/{conn.id}/change/",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for plaintext in (
            "sk-admin-visible?",
            "client-secret-visible?",
            "access-visible?",
            "refresh-visible?",
        ):
            assert plaintext not in html, page
        assert "GLOBEX_ONLY" not in html
    assert "••••••••" in client.get("/admin/credentials/workspacesecret/").content.decode()


def test_an_admin_creates_and_replaces_a_secret_in_the_admin(admin):
    client = admin_client(admin)
    response = client.post(
        "/admin/credentials/workspacesecret/add/",
        {"org": str(admin.org.id), "name": "ANTHROPIC_API_KEY", "description": "", "value": "sk-ant-1"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with system_scope():
        row = WorkspaceSecret.objects.get()
    assert vault.unseal(bytes(row.sealed_value), aad=row.aad()) == "sk-ant-1"
    # an empty value keeps the secret; a new one replaces it
    client.post(f"/admin/credentials/workspacesecret/{row.id}/change/", {"description": "kept", "value": ""})
    client.post(
        f"/admin/credentials/workspacesecret/{row.id}/change/", {"description": "kept", "value": "sk-ant-2"}
    )
    with system_scope():
        row = WorkspaceSecret.objects.get()
    assert (row.description, vault.unseal(bytes(row.sealed_value), aad=row.aad())) == ("kept", "sk-ant-2")
