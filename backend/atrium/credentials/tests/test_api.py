"""Workspace secrets, providers and connections through the API: secrets go in, none comes out."""

from __future__ import annotations

import json

import pytest

from atrium.audit.models import AuditEvent
from atrium.core.tenancy import scoped, system_scope
from atrium.credentials import vault
from atrium.credentials.models import OAuthConnection, OAuthProvider, WorkspaceSecret
from atrium.credentials.schemas import ConnectionOut, ProviderOut, SecretOut
from atrium.credentials.tests import factories

pytestmark = pytest.mark.django_db


def put(client, path, body):
    return client.put(path, data=json.dumps(body), content_type="application/json")


def test_no_out_schema_has_a_secret_field():
    for schema in (SecretOut, ProviderOut, ConnectionOut):
        names = set(schema.model_fields)
        assert not names & {"value", "client_secret", "access_token", "refresh_token", "sealed_value"}


def test_an_admin_sets_a_secret_and_never_reads_it_back(client_for, admin):
    # when an admin stores a secret
    client = client_for("admin")
    response = put(
        client, "/api/v1/orgs/acme/secrets/OPENAI_API_KEY", {"value": "sk-abc-123", "description": "prod"}
    )
    # then the answer and the list describe it without its value
    assert response.status_code == 200
    assert "sk-abc-123" not in response.content.decode()
    listed = client.get("/api/v1/orgs/acme/secrets")
    assert [s["name"] for s in listed.json()] == ["OPENAI_API_KEY"]
    assert "sk-abc-123" not in listed.content.decode()
    # and the row holds it sealed for this org and name
    with system_scope():
        row = WorkspaceSecret.objects.get()
    assert b"sk-abc-123" not in bytes(row.sealed_value)
    assert vault.unseal(bytes(row.sealed_value), aad=row.aad()) == "sk-abc-123"
    # and setting it again replaces the value in place
    assert put(client, "/api/v1/orgs/acme/secrets/OPENAI_API_KEY", {"value": "sk-new"}).status_code == 200
    with system_scope():
        again = WorkspaceSecret.objects.get()
    assert again.id == row.id
    assert vault.unseal(bytes(again.sealed_value), aad=again.aad()) == "sk-new"
    # and the audit log names the secret, never its value
    with system_scope():
        events = list(AuditEvent.objects.filter(action="secret.set").values_list("data", flat=True))
    assert events == [{"name": "OPENAI_API_KEY"}, {"name": "OPENAI_API_KEY"}]


def test_a_secret_row_copied_to_another_org_does_not_open(admin, outsider):
    mine = factories.secret(admin.org, value="acme-only")
    theirs = factories.secret(outsider.org, value="globex")
    with system_scope():
        WorkspaceSecret.objects.filter(id=theirs.id).update(sealed_value=bytes(mine.sealed_value))
        copied = WorkspaceSecret.objects.get(id=theirs.id)
    with pytest.raises(vault.VaultError):
        vault.unseal(bytes(copied.sealed_value), aad=copied.aad())


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("lower_case", {"value": "x"}, "invalid_secret_name"),
        ("1STARTS_WITH_DIGIT", {"value": "x"}, "invalid_secret_name"),
        ("EMPTY", {"value": ""}, "validation_error"),
        ("NO_VALUE", {}, "validation_error"),
    ],
)
def test_bad_secrets_are_422_and_write_nothing(client_for, admin, name, body, code):
    response = put(client_for("admin"), f"/api/v1/orgs/acme/secrets/{name}", body)
    assert response.status_code == 422
    assert response.json()["code"] == code
    with system_scope():
        assert WorkspaceSecret.objects.count() == 0


def test_a_provider_keeps_its_client_secret_sealed(client_for, admin):
    body = {
        "slug": "github",
        "authorize_url": "https://github.example/authorize",
        "token_url": "https://github.example/token",
        "client_id": "cid",
        "client_secret": "csecret-xyz",
        "default_scopes": ["repo", "read:user"],
    }
    response = client_for("admin").post(
        "/api/v1/orgs/acme/oauth-providers", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    out = response.json()
    assert "csecret-xyz" not in response.content.decode()
    assert out["has_client_secret"] is True
    assert out["default_scopes"] == ["read:user", "repo"]
    assert out["redirect_uri"] == f"http://localhost:8000/api/v1/oauth/{out['id']}/callback"
    with system_scope():
        row = OAuthProvider.objects.get()
    assert vault.unseal(bytes(row.sealed_client_secret), aad=row.aad()) == "csecret-xyz"


@pytest.mark.parametrize(
    "patch",
    [
        {"token_url": "ftp://x/token"},
        {"token_url": "http://idp.example/token"},
        {"client_id": ""},
        {"default_scopes": ["has space"]},
    ],
)
def test_bad_provider_changes_are_422_and_change_nothing(client_for, admin, patch):
    provider = factories.provider(admin.org)
    response = client_for("admin").patch(
        f"/api/v1/orgs/acme/oauth-providers/{provider.id}",
        data=json.dumps(patch),
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    with system_scope():
        after = OAuthProvider.objects.get()
    assert (after.token_url, after.client_id, after.default_scopes) == (
        provider.token_url,
        provider.client_id,
        provider.default_scopes,
    )


def test_members_see_and_delete_only_their_own_connections(client_for, admin, editor, viewer):
    provider = factories.provider(admin.org, revocation=False)
    mine = factories.connection(provider, viewer.user, access_token="viewer-token")
    theirs = factories.connection(factories.provider(admin.org, slug="other", revocation=False), editor.user)
    client = client_for("viewer")
    listed = client.get("/api/v1/orgs/acme/me/connections").json()
    assert [c["id"] for c in listed] == [str(mine.id)]
    assert "viewer-token" not in json.dumps(listed)
    # a viewer may disconnect their own connection, not another member's
    assert client.delete(f"/api/v1/orgs/acme/me/connections/{theirs.id}").status_code == 404
    assert client.delete(f"/api/v1/orgs/acme/me/connections/{mine.id}").status_code == 204
    with scoped(factories.admin_scope(admin.org)):
        assert list(OAuthConnection.objects.values_list("id", flat=True)) == [theirs.id]
    # admins see which connections exist, never the tokens
    every = client_for("admin").get("/api/v1/orgs/acme/oauth-connections")
    assert [c["user_email"] for c in every.json()] == ["editor@acme.test"]
    assert "access-token-value" not in every.content.decode()
