"""Removing members in the Django admin goes through `membership_remove`, with its rules: the org's
last admin cannot be removed there either (issue 18, lifecycle)."""

from __future__ import annotations

from django.test import Client

from atrium.orgs.models import ApiKey, Membership


def test_the_last_admin_cannot_be_removed_in_the_admin(admin, api_key_for):
    key = api_key_for(admin)
    browser = Client()
    browser.force_login(admin.user)
    membership = Membership.unscoped.get(user=admin.user, org=admin.org)
    response = browser.post(f"/admin/orgs/membership/{membership.id}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "An organisation needs at least one admin." in page
    assert "was deleted successfully" not in page
    assert Membership.unscoped.filter(id=membership.id).exists()
    assert ApiKey.unscoped.get(prefix=key.split("_")[1]).revoked_at is None


def test_removing_a_member_in_the_admin_revokes_their_keys_in_that_org(admin, editor, api_key_for):
    key = api_key_for(editor)
    browser = Client()
    browser.force_login(admin.user)
    membership = Membership.unscoped.get(user=editor.user, org=editor.org)
    response = browser.post(f"/admin/orgs/membership/{membership.id}/delete/", {"post": "yes"}, follow=True)
    assert "was deleted successfully" in response.content.decode()
    assert not Membership.unscoped.filter(id=membership.id).exists()
    assert ApiKey.unscoped.get(prefix=key.split("_")[1]).revoked_at is not None
    assert Client().get("/api/v1/me", HTTP_X_API_KEY=key).status_code == 401


def test_the_admin_cannot_demote_an_orgs_last_admin(admin) -> None:  # type: ignore[no-untyped-def]
    # given the org's only admin, signed in to the Django admin
    membership = Membership.unscoped.get(org=admin.org, user=admin.user)
    client = Client()
    client.force_login(admin.user)
    # when they make themselves an end user
    client.post(
        f"/admin/orgs/membership/{membership.id}/change/",
        {"user": admin.user.id, "org": admin.org.id, "role": "end_user"},
    )
    # then the org keeps its admin
    membership.refresh_from_db()
    assert membership.role == "admin"
