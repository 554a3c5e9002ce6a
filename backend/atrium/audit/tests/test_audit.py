"""The audit log: what the services record, who may read it, and that it is read-only in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from atrium.audit.models import AuditEvent
from atrium.audit.services import audit_record
from atrium.core.errors import ConflictError, PermissionDeniedError
from atrium.core.tenancy import Role, scoped
from atrium.orgs import services
from atrium.orgs.models import Membership


def actions() -> list[tuple[str, str]]:
    return [(e.action, e.actor_email) for e in AuditEvent.unscoped.order_by("created_at")]


def test_member_and_key_changes_are_recorded_with_their_actor(admin):
    # given an admin acting in their org
    with scoped(admin.scope()):
        # when they add a member, change their role, give them a key, revoke it and remove them
        membership = services.membership_add(email="new@acme.test", role=Role.VIEWER)
        services.membership_update_role(membership_id=str(membership.id), role=Role.BUILDER)
        key, plaintext = services.api_key_create(user=membership.user, name="ci")
        services.api_key_revoke(key_id=str(key.id))
        services.membership_remove(membership_id=str(membership.id))
    # then each action is one event, by the admin, in the org
    email = admin.user.email
    assert actions() == [
        ("membership.add", email),
        ("membership.role_change", email),
        ("api_key.create", email),
        ("api_key.revoke", email),
        ("membership.remove", email),
    ]
    events = list(AuditEvent.unscoped.order_by("created_at"))
    assert {e.org_id for e in events} == {admin.org.id}
    assert events[1].data == {"email": "new@acme.test", "from": "viewer", "to": "builder"}
    assert events[2].data == {"name": "ci", "prefix": key.prefix, "user": "new@acme.test"}
    assert events[4].target_id == str(membership.id)
    # and the key's secret is in none of them
    assert all(plaintext not in str(e.data) for e in events)


def test_a_refused_or_failed_action_records_nothing(admin, viewer):
    with scoped(viewer.scope()), pytest.raises(PermissionDeniedError):
        services.membership_add(email="x@acme.test", role=Role.VIEWER)
    only_admin = Membership.unscoped.get(user=admin.user)
    with scoped(admin.scope()), pytest.raises(ConflictError):
        services.membership_update_role(membership_id=str(only_admin.id), role=Role.VIEWER)
    assert actions() == []


def test_revoking_a_revoked_key_records_once(admin, editor):
    with scoped(admin.scope()):
        key, _ = services.api_key_create(user=editor.user, name="ci")
        services.api_key_revoke(key_id=str(key.id))
        services.api_key_revoke(key_id=str(key.id))
    assert [a for a, _ in actions()] == ["api_key.create", "api_key.revoke"]


def test_an_event_needs_an_org():
    with pytest.raises(ValueError, match="belongs to an org"):
        audit_record(action="x.y")


def test_admins_read_their_orgs_log_newest_first_and_filtered(admin, outsider):
    with scoped(admin.scope()):
        services.membership_add(email="a@acme.test", role=Role.VIEWER)
        services.org_update(name="Acme Two")
    with scoped(outsider.scope()):
        services.membership_add(email="b@globex.test", role=Role.VIEWER)
    client = Client()
    client.force_login(admin.user)
    body = client.get("/api/v1/orgs/acme/audit-events").json()
    assert [e["action"] for e in body] == ["org.update", "membership.add"]
    assert body[1]["data"] == {"email": "a@acme.test", "role": "viewer"}
    assert body[1]["actor_email"] == admin.user.email
    filtered = client.get("/api/v1/orgs/acme/audit-events?action=membership.add").json()
    assert [e["data"]["email"] for e in filtered] == ["a@acme.test"]
    assert client.get("/api/v1/orgs/acme/audit-events?limit=0").status_code == 422


def test_the_admin_shows_the_log_read_only_and_per_org(admin, outsider):
    with scoped(admin.scope()):
        services.membership_add(email="ours@acme.test", role=Role.VIEWER)
    with scoped(outsider.scope()):
        services.membership_add(email="theirs@globex.test", role=Role.VIEWER)
    client = Client()
    client.force_login(admin.user)
    page = client.get("/admin/audit/auditevent/")
    assert page.status_code == 200
    assert "membership.add" in page.content.decode()
    ours = AuditEvent.unscoped.get(org=admin.org)
    theirs = AuditEvent.unscoped.get(org=outsider.org)
    assert client.get(f"/admin/audit/auditevent/{ours.id}/change/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{theirs.id}/change/").status_code == 302
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{ours.id}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.unscoped.filter(id=ours.id).exists()


def test_admin_site_key_revocations_and_member_changes_are_recorded(admin, editor):
    with scoped(admin.scope()):
        key, _ = services.api_key_create(user=editor.user, name="ci")
    client = Client()
    client.force_login(admin.user)
    response = client.post(
        "/admin/orgs/apikey/", {"action": "revoke", "_selected_action": [str(key.id)]}, follow=True
    )
    assert response.status_code == 200
    membership = Membership.unscoped.get(user=editor.user)
    client.post(f"/admin/orgs/membership/{membership.id}/delete/", {"post": "yes"})
    assert not Membership.unscoped.filter(id=membership.id).exists()
    assert [a for a, _ in actions()] == ["api_key.create", "api_key.revoke", "membership.remove"]
    assert AuditEvent.unscoped.get(action="membership.remove").data["via"] == "admin"
