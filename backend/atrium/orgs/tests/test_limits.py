"""Rate limits and quotas through both APIs: 429 with Retry-After under a burst, per member and per
org, configured per org (admin) with deployment defaults, and other orgs unaffected."""

from __future__ import annotations

import pytest
from django.test import Client

from atrium.core.ratelimit import RateLimitedError
from atrium.core.tenancy import Role, Scope, scoped
from atrium.orgs.limits import org_limits, org_limits_forget
from atrium.orgs.models import OrgSettings
from atrium.runtime.tests.agent_api import agent_loop, send


@pytest.fixture(autouse=True)
def _fresh_limits():
    org_limits_forget()
    yield
    org_limits_forget()


def limit(org, **values) -> None:
    OrgSettings.unscoped.update_or_create(org=org, defaults=values)


def session(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_a_burst_past_the_member_limit_gets_429_with_retry_after(admin, editor, outsider):
    # given acme allows each member 3 API requests a minute
    limit(admin.org, api_requests_per_minute_per_user=3)
    client = session(editor)
    # when the editor sends a burst of 5
    statuses = [client.get("/api/v1/orgs/acme/assistants").status_code for _ in range(5)]
    # then the first 3 pass and the rest are refused, saying how long to wait
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.get("/api/v1/orgs/acme/assistants")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["detail"].startswith(
        "Rate limit exceeded: API requests per minute are limited to 3 per member"
    )
    assert 1 <= int(refused["Retry-After"]) <= 20
    assert body["retry_after"] == int(refused["Retry-After"])
    # and another member of acme, and a member of another org, are unaffected
    assert session(admin).get("/api/v1/orgs/acme/assistants").status_code == 200
    assert session(outsider).get("/api/v1/orgs/globex/assistants").status_code == 200


def test_the_org_limit_is_shared_by_its_members(admin, editor, viewer, outsider):
    limit(admin.org, api_requests_per_minute=4, api_requests_per_minute_per_user=0)
    statuses = [
        session(m).get("/api/v1/orgs/acme").status_code for m in (admin, editor, viewer, admin, editor)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert session(outsider).get("/api/v1/orgs/globex").status_code == 200


def test_api_keys_are_limited_like_sessions(editor, api_key_for):
    limit(editor.org, api_requests_per_minute_per_user=2)
    headers = {"x-api-key": api_key_for(editor)}
    statuses = [Client().get("/api/v1/orgs/acme", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_unset_values_come_from_the_settings_and_zero_is_unlimited(org, settings):
    settings.ATRIUM_RATE_RUNS_PER_MINUTE_PER_USER = 7
    limit(org, runs_per_minute=0)
    limits = org_limits(org_id=org.id)
    assert (limits.runs_per_minute, limits.runs_per_minute_per_user) == (0, 7)


def test_run_creation_has_its_own_limit(editor, monkeypatch):
    from atrium.runtime.services.runs import RunCreate, run_create
    from atrium.runtime.services.threads import thread_create

    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    limit(editor.org, runs_per_minute_per_user=2)
    with scoped(editor.scope()):
        thread, _ = thread_create()
        for _ in range(2):
            run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
        with pytest.raises(RateLimitedError, match=r"new runs per minute are limited to 2 per member"):
            run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
        thread_create()  # other writes are not runs


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_the_agent_api_answers_429_with_retry_after_in_its_own_error_shape(editor, outsider):
    limit(editor.org, api_requests_per_minute_per_user=2)
    client = session(editor)
    statuses = [send(client, "POST", "/threads/search", {}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = send(client, "POST", "/threads/search", {})
    assert set(refused.json()) == {"detail"}
    assert "Rate limit exceeded" in refused.json()["detail"]
    assert int(refused["Retry-After"]) >= 1
    assert send(session(outsider), "POST", "/threads/search", {}).status_code == 200


def test_the_operator_edits_the_limits_in_the_django_admin(admin, outsider, operator):
    client = Client()
    client.force_login(operator)
    page = client.get("/admin/orgs/orgsettings/add/")
    assert page.status_code == 200
    response = client.post(
        "/admin/orgs/orgsettings/add/",
        {
            "org": str(admin.org.id),
            "api_requests_per_minute": "",
            "api_requests_per_minute_per_user": "9",
            "runs_per_minute": "",
            "runs_per_minute_per_user": "",
            "max_concurrent_runs": "2",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = OrgSettings.unscoped.get(org=admin.org)
    assert (row.api_requests_per_minute_per_user, row.max_concurrent_runs, row.webhook_allow_private) == (
        9,
        2,
        False,
    )
    assert org_limits(org_id=admin.org.id).api_per_minute_per_user == 9
    # the org's own admin sees the page; an admin of another org cannot reach it
    assert session(admin).get(f"/admin/orgs/orgsettings/{row.id}/change/").status_code == 200
    assert session(outsider).get(f"/admin/orgs/orgsettings/{row.id}/change/").status_code == 302


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures(agent_loop.__name__)
def test_a_key_verified_lately_is_limited_and_revoked_without_leaving_the_loop(
    editor, api_key_for, monkeypatch
):
    from atrium.orgs.models import ApiKey
    from atrium.orgs.services import api_key_revoke

    limit(editor.org, api_requests_per_minute_per_user=3)
    key = api_key_for(editor)
    client = Client(headers={"x-api-key": key})
    # the first request verifies the key and reads the org's limits from the database
    assert send(client, "POST", "/threads/search", {}).status_code == 200

    def no_hop(*args, **kwargs):
        raise AssertionError("authentication left the event loop")

    # from now on both are in this process's memory: authentication never hops to a thread for them
    monkeypatch.setattr("config.agent_auth.sync_to_async", no_hop)
    statuses = [send(client, "POST", "/threads/search", {}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the bucket is the one the first request took from
    monkeypatch.undo()
    # revoking the key forgets it at once
    org = editor.org
    with scoped(Scope(user_id=None, org_id=org.id, org_slug=org.slug, role=Role.ADMIN)):
        api_key_revoke(key_id=str(ApiKey.unscoped.get(user=editor.user).id))
    assert send(client, "POST", "/threads/search", {}).status_code == 401
