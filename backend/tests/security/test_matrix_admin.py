"""Findings of the Django admin's authorisation matrix (config/tests/test_admin_matrix.py).

- An org admin's changelists offered a filter by org listing every organisation of the deployment,
  by name (Django's filter on a foreign key lists the whole related table).
- Every assistant page of the operator (a superuser, who sees the versions inline) was a 500: the
  inline's empty form read the scoped versions table after the page's scope was gone.
- An org admin could post any user id to the membership form: add any account of the deployment to
  their org, and read its email in the list (ids are sequential: every account, one by one).
"""

from __future__ import annotations

import pytest
from django.test import Client

from atrium.assistants.services import assistant_create, assistant_update
from atrium.core.tenancy import scoped
from atrium.orgs.models import Membership
from atrium.runtime.models import Thread

pytestmark = pytest.mark.django_db

CHANGELISTS_FILTERED_BY_ORG = (
    "/admin/orgs/membership/",
    "/admin/orgs/apikey/",
    "/admin/audit/auditevent/",
    "/admin/assistants/assistant/",
    "/admin/runtime/thread/",
    "/admin/runtime/run/",
    "/admin/runtime/cron/",
    "/admin/runtime/webhookdelivery/",
    "/admin/credentials/workspacesecret/",
    "/admin/credentials/oauthprovider/",
    "/admin/credentials/oauthconnection/",
    "/admin/credentials/oauthauthorization/",
)


def _session(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", CHANGELISTS_FILTERED_BY_ORG)
def test_an_org_admins_changelists_do_not_name_other_orgs(page, admin, outsider, operator):
    # given another org with a row on the page, and a thread of the admin's own org
    Thread.unscoped.create(org=outsider.org, owner=outsider.user)
    Thread.unscoped.create(org=admin.org, owner=admin.user)

    # when the org admin opens the changelist
    response = _session(admin.user).get(page)

    # then the org filter offers their org only
    assert response.status_code == 200
    assert "globex" not in response.content.decode().lower()
    # while the operator's filter still offers every org (by slug)
    assert "?org__id__exact=" in (operator_page := _session(operator).get(page).content.decode())
    assert "globex" in operator_page


def test_the_operator_opens_an_assistants_add_and_change_pages(admin, operator):
    # given an assistant with two versions
    with scoped(admin.scope()):
        assistant = assistant_create(graph_id="echo", name="Helper")
        assistant_update(assistant_id=assistant.id, name="Helper v2")
    client = _session(operator)

    # when the operator opens its change page and the add page, then both render
    change = client.get(f"/admin/assistants/assistant/{assistant.id}/change/")
    assert change.status_code == 200
    assert "Helper v2" in change.content.decode()
    assert client.get("/admin/assistants/assistant/add/").status_code == 200


def test_an_org_admin_cannot_add_or_swap_in_another_orgs_user_through_the_admin(admin, viewer, outsider):
    client = _session(admin.user)
    before = list(Membership.unscoped.order_by("id").values())
    own = Membership.unscoped.get(user=viewer.user)

    # when the org admin posts the outsider's id as a new member, or as the user of an existing one
    added = client.post(
        "/admin/orgs/membership/add/",
        {"user": str(outsider.user.id), "org": str(admin.org.id), "role": "viewer"},
    )
    swapped = client.post(
        f"/admin/orgs/membership/{own.id}/change/",
        {"user": str(outsider.user.id), "org": str(admin.org.id), "role": "viewer"},
    )

    # then both forms refuse the choice, nothing changed, and the outsider's email appears nowhere
    for response in (added, swapped):
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert list(Membership.unscoped.order_by("id").values()) == before
    assert outsider.user.email not in client.get("/admin/orgs/membership/").content.decode()
    # while a member of their org is still theirs to pick
    assert (
        client.post(
            f"/admin/orgs/membership/{own.id}/change/",
            {"user": str(viewer.user.id), "org": str(admin.org.id), "role": "builder"},
        ).status_code
        == 302
    )
    assert Membership.unscoped.get(id=own.id).role == "builder"
