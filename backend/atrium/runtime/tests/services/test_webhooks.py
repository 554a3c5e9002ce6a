"""Webhook delivery against a real HTTP receiver on loopback: Standard Webhooks signatures, retries
on server errors, terminal client errors, and the SSRF guard. The Celery task is a thin wrapper over
`webhook_deliver` (the live test in conformance/ runs it in a real worker)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook

from atrium.core.errors import ValidationFailedError
from atrium.core.tenancy import scoped
from atrium.orgs.models import OrgSettings
from atrium.orgs.services import org_webhook_secret_reveal, org_webhook_secret_rotate
from atrium.runtime.models import Run, RunStatus, WebhookDelivery
from atrium.runtime.services import lifecycle, webhooks
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def commits(django_capture_on_commit_callbacks) -> Any:
    """The test's transaction never commits: steps that send tasks run their on-commit callbacks
    themselves, in `with commits(execute=True)`."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Tasks sent after commit, recorded instead of going to the broker."""
    calls: list[str] = []
    monkeypatch.setattr(webhooks, "_send_task", lambda delivery_id, countdown=0: calls.append(delivery_id))
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)
    monkeypatch.setattr("atrium.runtime.dispatch.send_control", lambda run_id, action: None)
    monkeypatch.setattr("atrium.runtime.dispatch.mark_done", lambda *a, **k: None)
    return calls


def allow_private(org, allowed: bool = True) -> None:
    OrgSettings.unscoped.update_or_create(org=org, defaults={"webhook_allow_private": allowed})


@pytest.fixture
def finished_run(commits) -> Any:
    """A run with a webhook that just ended successfully, as the worker's finish records it."""

    def make(editor, url: str, *, values=None) -> WebhookDelivery:
        with scoped(editor.scope()):
            thread, _ = thread_create()
            run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo", webhook=url))
        now = timezone.now()
        Run.unscoped.filter(id=run.id).update(status=RunStatus.SUCCESS, started_at=now, ended_at=now)
        with commits(execute=True), transaction.atomic():
            delivery = webhooks.webhook_enqueue(run_id=run.id, values=values or {"messages": ["done"]})
        assert delivery is not None
        return delivery

    return make


def reload(delivery: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.unscoped.get(id=delivery.id)


def backoff_passes(delivery: WebhookDelivery) -> None:
    """The retry's time comes (its message would arrive now)."""
    WebhookDelivery.unscoped.filter(id=delivery.id).update(next_attempt_at=timezone.now())


def test_a_delivery_is_signed_with_the_orgs_secret_and_carries_the_run(
    editor, admin, receiver: Receiver, sent, finished_run
):
    # given an org that allows private addresses, and a finished run with a webhook
    allow_private(editor.org)
    delivery = finished_run(editor, receiver.url)
    assert sent == [str(delivery.id)]
    # when the task delivers it
    assert webhooks.webhook_deliver(delivery_id=str(delivery.id)).done
    # then the receiver got one POST that verifies with the secret an admin reads from the API
    (request,) = receiver.requests
    with scoped(admin.scope()):
        secret = org_webhook_secret_reveal()
    body = Webhook(secret).verify(request.body, request.headers)
    assert request.path == "/hooks/atrium?token=abc"
    assert request.headers["webhook-id"] == str(delivery.id)
    assert body["run_id"] == str(delivery.run_id)
    assert body["status"] == "success"
    assert body["values"] == {"messages": ["done"]}
    assert all(body[k] for k in ("run_started_at", "run_ended_at", "webhook_sent_at"))
    assert "webhook" not in body["kwargs"]
    # and the log says delivered, on the first attempt
    done = reload(delivery)
    assert (done.status, done.attempts, done.response_status) == ("delivered", 1, 200)
    assert done.delivered_at is not None


def test_a_tampered_body_or_another_orgs_secret_does_not_verify(
    editor, admin, outsider, receiver, sent, finished_run
):
    allow_private(editor.org)
    delivery = finished_run(editor, receiver.url)
    webhooks.webhook_deliver(delivery_id=str(delivery.id))
    (request,) = receiver.requests
    with scoped(outsider.scope()):
        foreign = org_webhook_secret_reveal()
    with scoped(admin.scope()):
        ours = org_webhook_secret_reveal()
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(foreign).verify(request.body, request.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(ours).verify(request.body.replace(b"success", b"error"), request.headers)


def test_a_server_error_is_retried_with_backoff_and_then_delivered(
    editor, admin, receiver, sent, settings, finished_run
):
    settings.ATRIUM_WEBHOOK_BACKOFF_SECONDS = 4.0
    allow_private(editor.org)
    receiver.statuses = [500, 200]
    delivery = finished_run(editor, receiver.url)
    # the first attempt meets a 500: retry later, between half and all of the first backoff step
    first = webhooks.webhook_deliver(delivery_id=str(delivery.id))
    assert not first.done
    assert 2.0 <= first.retry_in <= 4.0
    after_first = reload(delivery)
    assert (after_first.status, after_first.attempts, after_first.response_status) == ("pending", 1, 500)
    assert after_first.last_error.startswith("HTTP 500")
    assert after_first.leased_until is None
    assert 2.0 <= (after_first.next_attempt_at - timezone.now()).total_seconds() <= 4.0
    # a message before then (a duplicate) does nothing
    assert webhooks.webhook_deliver(delivery_id=str(delivery.id)).done
    assert len(receiver.requests) == 1
    # the retry is delivered, with the same webhook-id (receivers deduplicate on it)
    backoff_passes(delivery)
    assert webhooks.webhook_deliver(delivery_id=str(delivery.id)).done
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(delivery.id)] * 2
    done = reload(delivery)
    assert (done.status, done.attempts, done.response_status, done.last_error) == ("delivered", 2, 200, "")
    # a redelivered task message for a finished delivery does nothing
    assert webhooks.webhook_deliver(delivery_id=str(delivery.id)).done
    assert len(receiver.requests) == 2


def test_retries_stop_at_the_attempt_bound(editor, receiver, sent, settings, finished_run):
    settings.ATRIUM_WEBHOOK_MAX_ATTEMPTS = 3
    allow_private(editor.org)
    receiver.statuses = [503]
    delivery = finished_run(editor, receiver.url)
    outcomes = []
    for _ in range(3):
        backoff_passes(delivery)
        outcomes.append(webhooks.webhook_deliver(delivery_id=str(delivery.id)).done)
    assert outcomes == [False, False, True]
    failed = reload(delivery)
    assert (failed.status, failed.attempts, failed.response_status) == ("failed", 3, 503)


@pytest.mark.parametrize("status", [400, 404, 302])
def test_client_errors_and_redirects_are_not_retried(editor, receiver, sent, status, finished_run):
    allow_private(editor.org)
    receiver.statuses = [status]
    delivery = finished_run(editor, receiver.url)
    assert webhooks.webhook_deliver(delivery_id=str(delivery.id)).done
    failed = reload(delivery)
    assert (failed.status, failed.attempts, failed.response_status) == ("failed", 1, status)
    assert len(receiver.requests) == 1  # the redirect to a private address was not followed


def test_a_loopback_receiver_is_refused_unless_the_org_allows_private_addresses(
    editor, receiver, sent, finished_run
):
    # given a run whose webhook was accepted while the org allowed private addresses
    allow_private(editor.org)
    delivery = finished_run(editor, receiver.url)
    # when an admin turns that off before delivery
    allow_private(editor.org, False)
    # then the delivery is refused at once, and nothing reaches the receiver
    assert webhooks.webhook_deliver(delivery_id=str(delivery.id)).done
    refused = reload(delivery)
    assert refused.status == "refused"
    assert "127.0.0.1" in refused.last_error
    assert refused.attempts == 1
    assert receiver.requests == []


def test_a_private_webhook_is_refused_when_the_run_is_created(editor, sent):
    with scoped(editor.scope()):
        thread, _ = thread_create()
        with pytest.raises(ValidationFailedError, match="not a public address"):
            run_create(
                thread_id=thread.id,
                payload=RunCreate(assistant_id="echo", webhook="http://169.254.169.254/x"),
            )
    assert Run.unscoped.count() == 0


def test_a_cancelled_pending_run_notifies_its_webhook_and_a_rolled_back_one_does_not(
    editor, receiver, sent, commits
):
    allow_private(editor.org)
    with scoped(editor.scope()), commits(execute=True):
        thread, _ = thread_create()
        first = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo", webhook=receiver.url))
        second = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo", webhook=receiver.url))
        lifecycle.cancel(thread_id=thread.id, run_id=second.id, action="interrupt")
        lifecycle.cancel(thread_id=thread.id, run_id=first.id, action="rollback")
    (delivery,) = WebhookDelivery.unscoped.all()
    assert (delivery.run_id, delivery.run_status) == (second.id, "interrupted")
    assert sent == [str(delivery.id)]


def test_rotating_the_secret_changes_what_signs_the_next_delivery(
    editor, admin, receiver, sent, finished_run
):
    allow_private(editor.org)
    with scoped(admin.scope()):
        old = org_webhook_secret_reveal()
        new = org_webhook_secret_rotate()
    assert old != new
    assert new.startswith("whsec_")
    delivery = finished_run(editor, receiver.url)
    webhooks.webhook_deliver(delivery_id=str(delivery.id))
    (request,) = receiver.requests
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(old).verify(request.body, request.headers)


def test_the_secret_endpoints_are_for_admins_and_audited(admin, editor, client_for):
    response = client_for("admin").get("/api/v1/orgs/acme/webhook-secret")
    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")
    assert client_for("editor").get("/api/v1/orgs/acme/webhook-secret").status_code == 403
    from atrium.audit.models import AuditEvent

    assert [e.action for e in AuditEvent.unscoped.filter(action__startswith="webhook_secret")] == [
        "webhook_secret.read"
    ]


def test_the_delivery_log_is_in_the_admin_without_the_urls_query(
    editor, admin, outsider, receiver, sent, finished_run, commits
):
    allow_private(editor.org)
    delivery = finished_run(editor, receiver.url)
    webhooks.webhook_deliver(delivery_id=str(delivery.id))
    client = Client()
    client.force_login(admin.user)
    page = client.get(f"/admin/runtime/webhookdelivery/{delivery.id}/change/").content.decode()
    assert "/hooks/atrium?…" in page
    assert "token=abc" not in page
    other = Client()
    other.force_login(outsider.user)
    assert other.get(f"/admin/runtime/webhookdelivery/{delivery.id}/change/").status_code == 302
    # an operator sends a finished delivery again
    with commits(execute=True):
        client.post(
            "/admin/runtime/webhookdelivery/", {"action": "redeliver", "_selected_action": [str(delivery.id)]}
        )
    again = reload(delivery)
    assert (again.status, again.attempts) == ("pending", 0)
    assert sent == [str(delivery.id), str(delivery.id)]
    assert json.loads(json.dumps(again.payload))["run_id"] == str(delivery.run_id)
