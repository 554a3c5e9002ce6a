"""Quotas, concurrent-run caps and private-network webhooks are the operator's: a tenant admin sees
them in the Django admin and cannot raise them (finding: org admins edited their own quotas and caps,
0 meaning unlimited, and turned on webhooks to private addresses)."""

from __future__ import annotations

from django.test import Client

from atrium.core.tenancy import Scope, scoped
from atrium.orgs.limits import org_limits
from atrium.orgs.models import OrgSettings


def _session(member) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(member.user)
    return client


def test_a_tenant_admin_cannot_raise_their_orgs_quotas_caps_or_private_webhooks(admin) -> None:  # type: ignore[no-untyped-def]
    # given an org the operator capped
    with scoped(Scope(user_id=None, system=True)):
        row = OrgSettings.objects.create(
            org=admin.org, max_concurrent_runs=2, runs_per_minute=10, webhook_allow_private=False
        )
    client = _session(admin)
    # when its own admin posts the settings page with the caps lifted (0 = unlimited) and private webhooks on
    page = client.get(f"/admin/orgs/orgsettings/{row.id}/change/")
    assert page.status_code == 200
    response = client.post(
        f"/admin/orgs/orgsettings/{row.id}/change/",
        {
            "api_requests_per_minute": "0",
            "api_requests_per_minute_per_user": "0",
            "runs_per_minute": "0",
            "runs_per_minute_per_user": "0",
            "max_concurrent_runs": "0",
            "webhook_allow_private": "on",
        },
    )
    # then nothing changed
    assert response.status_code in (200, 302)
    row.refresh_from_db()
    assert (row.max_concurrent_runs, row.runs_per_minute, row.webhook_allow_private) == (2, 10, False)
    assert row.api_requests_per_minute is None
    assert org_limits(org_id=admin.org.id).runs_per_minute == 10
    # and the form shows every operator field read-only
    html = page.content.decode()
    for name in OrgSettings.OPERATOR_FIELDS:
        assert f'name="{name}"' not in html, name


def test_a_tenant_admin_cannot_delete_the_operators_settings_row(admin) -> None:  # type: ignore[no-untyped-def]
    with scoped(Scope(user_id=None, system=True)):
        row = OrgSettings.objects.create(org=admin.org, runs_per_minute=10)
    client = _session(admin)
    client.post(f"/admin/orgs/orgsettings/{row.id}/delete/", {"post": "yes"})
    assert OrgSettings.unscoped.filter(id=row.id, runs_per_minute=10).exists()
    assert org_limits(org_id=admin.org.id).runs_per_minute == 10
