"""Webhook deliveries are bounded: a receiver that drips bytes is cut off at the attempt's deadline, a
huge answer is not read, a huge body is not sent; and a delivery whose task message was lost is
delivered once the reconciler runs (on the live stack's worker, which consumes the `webhooks` queue)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from atrium.core.tenancy import scoped
from atrium.orgs.models import Organization, OrgSettings
from atrium.runtime.models import Run, RunStatus, WebhookDelivery
from atrium.runtime.services import webhooks
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create
from atrium.runtime.tests.live_stack import REDIS_DB, LiveStack, _redis_url
from atrium.runtime.tests.receiver import Receiver


class _Loopback:
    """A raw TCP receiver on loopback that answers every connection with `behave(conn)` and counts the
    bytes it managed to send."""

    def __init__(self, behave: Callable[[socket.socket, _Loopback], None]) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"
        self.sent = 0
        self.closed_by_client = threading.Event()
        self._behave = behave
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(1 << 20)  # the request (small enough to arrive at once)
            try:
                self._behave(conn, self)
            except OSError:
                self.closed_by_client.set()

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self.server.close()


def _drip_head(conn: socket.socket, server: _Loopback) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Slow: " + b"a" * 200:
        server.send(conn, bytes([byte]))
        time.sleep(0.1)


def _drip_body(conn: socket.socket, server: _Loopback) -> None:
    server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n")
    for _ in range(200):
        server.send(conn, b"x")
        time.sleep(0.1)


def _flood(conn: socket.socket, server: _Loopback) -> None:
    size = 256 << 20
    server.send(conn, f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
    chunk = b"x" * (1 << 16)
    for _ in range(size // len(chunk)):
        server.send(conn, chunk)


@pytest.fixture
def finished_run(db: None, editor: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any) -> Any:
    """A run with a webhook that just ended, its delivery recorded (its task is not sent: the test
    makes the attempt itself)."""
    monkeypatch.setattr(webhooks, "_send_task", lambda delivery_id, countdown=0: None)
    for name in ("enqueue_run", "announce_run", "send_control", "mark_done"):
        monkeypatch.setattr(f"atrium.runtime.dispatch.{name}", lambda *a, **k: None)
    OrgSettings.unscoped.update_or_create(org=editor.org, defaults={"webhook_allow_private": True})

    def make(url: str, values: Any = None) -> WebhookDelivery:
        with scoped(editor.scope()):
            thread, _ = thread_create()
            run = run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo", webhook=url))
        Run.unscoped.filter(id=run.id).update(status=RunStatus.SUCCESS, ended_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            delivery = webhooks.webhook_enqueue(run_id=run.id, values=values or {"messages": ["done"]})
        assert delivery is not None
        return delivery

    return make


@pytest.mark.parametrize("behave", [_drip_head, _drip_body], ids=["head", "body"])
def test_a_receiver_dripping_bytes_is_cut_off_at_the_deadline(
    finished_run: Any, settings: Any, behave: Callable[[socket.socket, _Loopback], None]
) -> None:
    # given: one attempt may take 1.5 s in all, and a receiver sends one byte every 0.1 s for 20 s
    settings.ATRIUM_WEBHOOK_TIMEOUT_SECONDS = 1.5
    server = _Loopback(behave)
    delivery = finished_run(server.url)

    # when
    started = time.monotonic()
    attempt = webhooks.webhook_deliver(delivery_id=str(delivery.id))
    took = time.monotonic() - started
    server.close()

    # then: the attempt ended at the deadline (every byte came well within the read timeout), and it
    # is retried later like any timeout
    assert took < 4.0  # 1.5 s, and the record; without the deadline it takes the whole 20 s
    assert not attempt.done
    row = WebhookDelivery.unscoped.get(id=delivery.id)
    assert (row.status, row.attempts, row.leased_until) == ("pending", 1, None)
    assert row.last_error.startswith("DeadlineExceededError: no complete answer within 1.5 s")


def test_a_huge_answer_is_not_read(finished_run: Any) -> None:
    # given: a receiver answering 200 with 256 MiB as fast as it can
    server = _Loopback(_flood)
    delivery = finished_run(server.url)

    # when
    attempt = webhooks.webhook_deliver(delivery_id=str(delivery.id))

    # then: delivered (its status is all that counts), after reading a bounded prefix: the receiver
    # found the connection closed long before it could send it all
    assert attempt.done
    row = WebhookDelivery.unscoped.get(id=delivery.id)
    assert (row.status, row.response_status) == ("delivered", 200)
    assert server.closed_by_client.wait(10)
    assert server.sent < 32 << 20
    server.close()


def test_a_huge_body_is_sent_without_the_threads_values(
    finished_run: Any, settings: Any, receiver: Receiver
) -> None:
    # given: a run whose thread holds far more than the body may carry
    settings.ATRIUM_WEBHOOK_MAX_BODY_BYTES = 20_000
    delivery = finished_run(receiver.url, values={"messages": ["x" * 1000] * 200})

    # when
    webhooks.webhook_deliver(delivery_id=str(delivery.id))

    # then: the receiver got the run, flagged, within the cap
    (request,) = receiver.requests
    assert len(request.body) <= 20_000
    body = json.loads(request.body)
    assert (body["run_id"], body["values"], body["values_omitted"]) == (str(delivery.run_id), None, True)


def test_a_delivery_is_never_attempted_while_another_attempt_holds_it(
    finished_run: Any, receiver: Receiver
) -> None:
    # given: an attempt in flight (its lease runs)
    delivery = finished_run(receiver.url)
    WebhookDelivery.unscoped.filter(id=delivery.id).update(
        attempts=1, leased_until=timezone.now() + timedelta(seconds=30)
    )

    # when: a second message for it arrives, and the reconciler runs
    attempt = webhooks.webhook_deliver(delivery_id=str(delivery.id))
    resent = webhooks.webhooks_reconcile()

    # then: nothing was sent and nothing changed
    assert attempt.done
    assert resent == 0
    assert receiver.requests == []
    assert WebhookDelivery.unscoped.get(id=delivery.id).attempts == 1


# -- the reconciler, on the live stack ------------------------------------------------------------------


@pytest.fixture
def org_a(live_stack: LiveStack, django_db_blocker: Any) -> Iterator[Organization]:
    with django_db_blocker.unblock():
        org = Organization.objects.order_by("created_at").first()
        assert org is not None
        OrgSettings.unscoped.update_or_create(org=org, defaults={"webhook_allow_private": True})
    try:
        yield org
    finally:
        with django_db_blocker.unblock():
            OrgSettings.unscoped.filter(org=org).update(webhook_allow_private=False)


def _reconcile_on_the_stack() -> None:
    """Beat's message for the reconciler, sent to the live stack's broker."""
    from django.conf import settings

    from config.celery import app

    with app.connection_for_write(_redis_url(settings.REDIS_URL, REDIS_DB)) as connection:
        app.send_task("atrium.runtime.webhooks_reconcile", queue="webhooks", connection=connection)


def test_a_pending_delivery_whose_message_was_lost_is_delivered_once_the_reconciler_runs(
    stack: LiveStack, org_a: Organization, receiver: Receiver, django_db_blocker: Any
) -> None:
    # given: a pending delivery whose task message was lost ten minutes ago (no message anywhere)
    with django_db_blocker.unblock():
        delivery = WebhookDelivery.unscoped.create(
            org=org_a,
            run_id=uuid.uuid4(),
            url=receiver.url,
            run_status="success",
            payload={"status": "success"},
            next_attempt_at=timezone.now() - timedelta(minutes=10),
        )
    try:
        # when: beat runs the reconciler, twice
        _reconcile_on_the_stack()
        first = receiver.wait_for(1, timeout=30)
        _reconcile_on_the_stack()
        time.sleep(2)

        # then: the webhooks worker delivered it, exactly once
        assert [r.headers["webhook-id"] for r in first] == [str(delivery.id)]
        assert len(receiver.requests) == 1
        with django_db_blocker.unblock():
            deadline = time.monotonic() + 10
            while (
                WebhookDelivery.unscoped.get(id=delivery.id).status == "pending"
                and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            row = WebhookDelivery.unscoped.get(id=delivery.id)
        assert (row.status, row.attempts, row.response_status) == ("delivered", 1, 200)
    finally:
        with django_db_blocker.unblock():
            WebhookDelivery.unscoped.filter(id=delivery.id).delete()


def test_deliveries_and_their_reconciler_travel_on_their_own_queue_not_the_crons_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from atrium.runtime.dispatch import WEBHOOKS_QUEUE
    from atrium.runtime.tasks import crons_tick, deliver_webhook, reconcile_webhooks

    # given: the queue Celery's router gives each message, recorded instead of sent (no broker: a
    # fault test earlier in the session may have pointed the app at a Redis that is gone)
    app = deliver_webhook.app
    sent: list[str] = []

    def record(name: str, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        sent.append(app.amqp.router.route(options, name, args, kwargs)["queue"].name)

    monkeypatch.setattr(app, "send_task", record)

    # when: a delivery, a retry of it, the reconciler and a cron tick are sent
    webhooks._send_task(str(uuid.uuid4()))
    webhooks._send_task(str(uuid.uuid4()), countdown=0.0)
    reconcile_webhooks.apply_async()
    crons_tick.apply_async()

    # then
    assert sent[:3] == [WEBHOOKS_QUEUE, WEBHOOKS_QUEUE, WEBHOOKS_QUEUE]
    assert sent[3] != WEBHOOKS_QUEUE  # the crons' tick keeps the default queue, whatever it is named
    assert deliver_webhook.queue == WEBHOOKS_QUEUE
