from __future__ import annotations

import json

from conftest import PASSWORD
from django.test import Client


def login(client: Client, email: str, password: str):
    token = client.get("/api/v1/auth/csrf").json()["csrf_token"]
    return client.post(
        "/api/v1/auth/login",
        data=json.dumps({"email": email, "password": password}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )


def test_login_starts_a_session_and_returns_me(admin):
    client = Client(enforce_csrf_checks=True)
    response = login(client, "Admin@Acme.test", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "admin@acme.test"
    assert body["memberships"] == [
        {
            "org": {"id": str(admin.org.id), "slug": "acme", "name": "Acme"},
            "role": "admin",
            "permissions": ["configure_agents", "manage_org", "read", "use_agents"],
        }
    ]
    assert client.get("/api/v1/me").status_code == 200


def test_wrong_password_is_a_400_with_a_message(admin):
    response = login(Client(enforce_csrf_checks=True), "admin@acme.test", "wrong")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid email or password.", "code": "invalid_credentials"}


def test_login_without_csrf_token_is_refused(admin):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/auth/login",
        data=json.dumps({"email": "admin@acme.test", "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


def test_login_with_a_malformed_body_is_a_422_naming_the_field(db):
    client = Client()
    response = client.post("/api/v1/auth/login", data='{"email": "a@b.c"}', content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("password:")


def test_login_with_invalid_json_is_a_4xx(db):
    response = Client().post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_logout_ends_the_session(admin):
    client = Client(enforce_csrf_checks=True)
    login(client, "admin@acme.test", PASSWORD)
    token = client.cookies["csrftoken"].value
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_inactive_users_cannot_log_in(admin):
    admin.user.is_active = False
    admin.user.save()
    assert login(Client(enforce_csrf_checks=True), "admin@acme.test", PASSWORD).status_code == 400


def test_me_lists_every_membership(admin, outsider):
    from atrium.core.tenancy import Role
    from atrium.orgs.services import membership_ensure

    membership_ensure(org=outsider.org, user=admin.user, role=Role.VIEWER)
    client = Client()
    client.force_login(admin.user)
    roles = {m["org"]["slug"]: m["role"] for m in client.get("/api/v1/me").json()["memberships"]}
    assert roles == {"acme": "admin", "globex": "viewer"}
