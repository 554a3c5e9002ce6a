"""Webhooks: a run created with `webhook` is POSTed, once finished, to that URL.

* **When.** Every path that ends a run records the delivery in the transaction that ends it, so the
  row commits with the run's final status, and the task is sent after commit: the sweeper giving up
  and a pending run cancelled call `webhook_enqueue` (Django), the worker's finish `webhook_record`
  (on its own async connection; the same row). A run rolled back (deleted) sends nothing.
* **What.** `{...run, run_started_at, run_ended_at, webhook_sent_at, values, error?}` as JSON.
* **Signed** as Standard Webhooks do: headers `webhook-id` (the delivery id, stable across retries),
  `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
  "{id}.{timestamp}.{body}">` under the org's secret (`GET /api/v1/orgs/{org}/webhook-secret`).
  Receivers reject stale timestamps, so a captured request cannot be replayed later.
* **SSRF guard.** The URL's host is resolved and must be public unless the org's admin allowed
  private addresses (`OrgSettings.webhook_allow_private`); the request goes to the checked address
  and redirects are not followed (atrium.core.http). Checked again at every attempt.
* **Bounded.** An attempt has `ATRIUM_WEBHOOK_TIMEOUT_SECONDS` in all (connect, send and read: a
  receiver dripping bytes is cut off), reads at most `RESPONSE_READ_LIMIT` bytes of the answer, and
  sends at most `ATRIUM_WEBHOOK_MAX_BODY_BYTES` (a larger body is sent without the thread's `values`,
  with `values_omitted: true`). Deliveries have their own queue (`webhooks`), so slow receivers
  never hold up crons and cleanup on `default`.
* **Retries** with exponential backoff on connection errors, timeouts, 408, 429 and 5xx, up to
  `ATRIUM_WEBHOOK_MAX_ATTEMPTS`; other 4xx and refused URLs end the delivery at once.
* **Never lost, never twice at once.** Each pending delivery knows when its next attempt is due; the
  reconciler (beat) sends a new message for one well past it (its message was lost with Redis or a
  worker). An attempt takes a lease on the row, so a second message finds it leased (or not yet due)
  and does nothing; a delivered one is never attempted again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from atrium.core import http
from atrium.core.http import UnsafeURLError, check_literal
from atrium.orgs.selectors import org_settings_get
from atrium.orgs.services import org_webhook_secret
from atrium.runtime.dispatch import DELIVER_WEBHOOK, WEBHOOKS_QUEUE, send_task
from atrium.runtime.engine import dumps
from atrium.runtime.models import Run, Thread, WebhookDelivery, WebhookStatus
from atrium.runtime.selectors.wire import run_out

logger = logging.getLogger(__name__)
RETRYABLE_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "Atrium-Webhooks/1"
ERROR_TEXT_LIMIT = 500
# Bytes of a receiver's answer read: its status decides, and the log keeps only its first 200
# characters; a receiver sending more is not read further.
RESPONSE_READ_LIMIT = 64 * 1024
# Time an attempt's lease has beyond its deadline (the DNS lookup and the record are not under it).
LEASE_MARGIN_SECONDS = 60.0
# A message may arrive this much before its delivery's next attempt is due (clocks of two hosts).
EARLY_SLACK = timedelta(seconds=2)
RECONCILE_BATCH = 500


def webhook_validate(url: str | None, *, org_id: uuid.UUID) -> str | None:
    """Check a run's or cron's webhook when it is given: an absolute http(s) URL, and not a literal
    private address unless the org allows them. The host's DNS answer is checked at delivery."""
    if url is None or url == "":
        return None
    settings_row = org_settings_get(org_id=org_id)
    check_literal(url, allow_private=bool(settings_row and settings_row.webhook_allow_private))
    return url.strip()


def _run_payload(run: Run, values: Any) -> dict[str, Any]:
    payload = run_out(run)
    payload["kwargs"].pop("webhook", None)
    payload.update(
        run_started_at=run.started_at.isoformat() if run.started_at else None,
        run_ended_at=run.ended_at.isoformat() if run.ended_at else None,
        values=values,
    )
    if run.error is not None:
        payload["error"] = run.error
    return payload


def webhook_enqueue(*, run_id: str | uuid.UUID, values: Any) -> WebhookDelivery | None:
    """Record the webhook of a run that just ended (inside the transaction that ended it) and send the
    delivery task after commit. None when the run has no webhook."""
    run = Run.unscoped.filter(id=run_id).first()
    if run is None or not (run.kwargs or {}).get("webhook"):
        return None
    if values is None:
        values = Thread.unscoped.filter(id=run.thread_id).values_list("values", flat=True).first()
    delivery = _delivery_of(run, values)
    delivery.save(force_insert=True)
    delivery_id = str(delivery.id)
    transaction.on_commit(lambda: _send_task(delivery_id), robust=True)
    return delivery


def _delivery_of(run: Run, values: Any) -> WebhookDelivery:
    """The (unsaved) delivery of a run's end, for a run with a webhook."""
    payload = _run_payload(run, values)
    if len(dumps(payload)) > settings.ATRIUM_WEBHOOK_MAX_BODY_BYTES:
        # The receiver reads the thread's state from the API instead; the run's own fields still fit.
        payload.update(values=None, values_omitted=True)
    return WebhookDelivery(
        org_id=run.org_id,
        run_id=run.id,
        thread_id=run.thread_id,
        url=run.kwargs["webhook"],
        run_status=run.status,
        payload=payload,
        next_attempt_at=timezone.now(),
    )


# The worker records the delivery on its own connection (the runtime pool, not Django's), in the
# transaction of the run's end: the run's row (and the thread's values, when the end has none) read
# there, and the delivery inserted there.
_RUN_COLUMNS = tuple(f for f in Run._meta.concrete_fields)
_DELIVERY_COLUMNS = tuple(f for f in WebhookDelivery._meta.concrete_fields)
_RUN_AND_VALUES = (
    "SELECT {columns}, t.values FROM {run} r JOIN {thread} t ON t.id = r.thread_id WHERE r.id = %s"
)
_INSERT_DELIVERY = "INSERT INTO {table} ({columns}) VALUES ({values})"


async def webhook_record(cursor: Any, *, run_id: str, values: Any) -> str | None:
    """`webhook_enqueue` on a cursor of the worker's async pool, inside the transaction that ends the
    run: returns the delivery's id, whose task the caller sends once committed (`webhook_send`); None
    when the run has no webhook."""
    quote = connection.ops.quote_name
    await cursor.execute(
        _RUN_AND_VALUES.format(
            columns=", ".join(f"r.{quote(str(f.column))}" for f in _RUN_COLUMNS),
            run=quote(Run._meta.db_table),
            thread=quote(Thread._meta.db_table),
        ),
        [run_id],
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    *columns, thread_values = row
    run = Run.from_db(None, [f.attname for f in _RUN_COLUMNS], columns)
    if not (run.kwargs or {}).get("webhook"):
        return None
    delivery = _delivery_of(run, thread_values if values is None else values)
    prepared = [f.get_db_prep_save(f.pre_save(delivery, True), connection) for f in _DELIVERY_COLUMNS]
    await cursor.execute(
        _INSERT_DELIVERY.format(
            table=quote(WebhookDelivery._meta.db_table),
            columns=", ".join(quote(str(f.column)) for f in _DELIVERY_COLUMNS),
            values=", ".join(["%s"] * len(_DELIVERY_COLUMNS)),
        ),
        prepared,
    )
    return str(delivery.id)


def webhook_send(delivery_id: str) -> None:
    """Send the task of a delivery recorded by `webhook_record`, once its transaction committed."""
    _send_task(delivery_id)


def _send_task(delivery_id: str, *, countdown: float = 0) -> None:
    send_task(DELIVER_WEBHOOK, (delivery_id,), countdown=countdown, queue=WEBHOOKS_QUEUE)


def _lease_seconds() -> float:
    """How long an attempt may hold its delivery: its deadline, plus time for the lookup and the
    record, which the deadline does not cover."""
    return float(settings.ATRIUM_WEBHOOK_TIMEOUT_SECONDS) + LEASE_MARGIN_SECONDS


def signature_headers(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for `body`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
        "content-type": "application/json",
    }


@dataclass(frozen=True)
class Attempt:
    """What the task should do after one attempt: nothing more (`done`), or retry after `retry_in`."""

    done: bool
    retry_in: float = 0.0


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1-based): exponential with full jitter on the top half."""
    base: float = float(settings.ATRIUM_WEBHOOK_BACKOFF_SECONDS) * 2.0 ** (attempt - 1)
    capped: float = min(base, float(settings.ATRIUM_WEBHOOK_BACKOFF_MAX_SECONDS))
    return capped / 2 + random.uniform(0, capped / 2)  # noqa: S311 - jitter, not cryptography


def webhook_deliver(*, delivery_id: str) -> Attempt:
    """Make one attempt at a pending delivery and record it. Idempotent: a message for a delivery that
    is no longer pending, has an attempt in flight (leased), or is not due yet (another message is
    scheduled for it) does nothing."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.unscoped.select_for_update(skip_locked=True).filter(id=delivery_id).first()
        if delivery is None or delivery.status != WebhookStatus.PENDING:
            return Attempt(done=True)
        if delivery.leased_until is not None and delivery.leased_until > now:
            return Attempt(done=True)
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + EARLY_SLACK:
            return Attempt(done=True)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.leased_until = now + timedelta(seconds=_lease_seconds())
        delivery.save(update_fields=["attempts", "last_attempt_at", "leased_until"])
    org_settings = org_settings_get(org_id=delivery.org_id)
    allow_private = bool(org_settings and org_settings.webhook_allow_private)
    generation = org_settings.webhook_secret_generation if org_settings else 1
    secret = org_webhook_secret(org_id=str(delivery.org_id), generation=generation)
    body = dumps({**delivery.payload, "webhook_sent_at": timezone.now().isoformat()})
    if len(body) > settings.ATRIUM_WEBHOOK_MAX_BODY_BYTES:
        error = f"The body is {len(body)} bytes, over ATRIUM_WEBHOOK_MAX_BODY_BYTES."
        return _record(delivery, status=WebhookStatus.FAILED, error=error)
    headers = signature_headers(secret=secret, msg_id=str(delivery.id), timestamp=int(time.time()), body=body)
    try:
        response = http.send(
            "POST",
            delivery.url,
            allow_private=allow_private,
            content=body,
            headers={"User-Agent": USER_AGENT, **headers},
            deadline=settings.ATRIUM_WEBHOOK_TIMEOUT_SECONDS,
            max_response_bytes=RESPONSE_READ_LIMIT,
        )
    except UnsafeURLError as exc:
        logger.warning("webhook %s refused: %s", delivery.id, exc.message)
        return _record(delivery, status=WebhookStatus.REFUSED, error=exc.message)
    except httpx.HTTPError as exc:
        return _retry_or_fail(delivery, error=f"{type(exc).__name__}: {exc}", response_status=None)
    if 200 <= response.status < 300:
        return _record(delivery, status=WebhookStatus.DELIVERED, response_status=response.status)
    error = f"HTTP {response.status}: {response.text[:200]}"
    if response.status >= 500 or response.status in RETRYABLE_STATUSES:
        return _retry_or_fail(delivery, error=error, response_status=response.status)
    return _record(delivery, status=WebhookStatus.FAILED, error=error, response_status=response.status)


def _retry_or_fail(delivery: WebhookDelivery, *, error: str, response_status: int | None) -> Attempt:
    if delivery.attempts >= settings.ATRIUM_WEBHOOK_MAX_ATTEMPTS:
        logger.warning("webhook %s failed after %d attempts: %s", delivery.id, delivery.attempts, error)
        return _record(delivery, status=WebhookStatus.FAILED, error=error, response_status=response_status)
    retry_in = backoff(delivery.attempts)
    _record(
        delivery,
        status=WebhookStatus.PENDING,
        error=error,
        response_status=response_status,
        retry_in=retry_in,
    )
    return Attempt(done=False, retry_in=retry_in)


def _record(
    delivery: WebhookDelivery,
    *,
    status: str,
    error: str = "",
    response_status: int | None = None,
    retry_in: float | None = None,
) -> Attempt:
    """Record an attempt and release its lease. Only the attempt holding the lease records."""
    now = timezone.now()
    changes: dict[str, Any] = {
        "status": status,
        "last_error": error[:ERROR_TEXT_LIMIT],
        "response_status": response_status,
        "leased_until": None,
        "next_attempt_at": now + timedelta(seconds=retry_in) if retry_in is not None else None,
    }
    if status == WebhookStatus.DELIVERED:
        changes["delivered_at"] = now
    WebhookDelivery.unscoped.filter(id=delivery.id, leased_until=delivery.leased_until).update(**changes)
    return Attempt(done=status != WebhookStatus.PENDING)


def webhooks_reconcile() -> int:
    """Send a new message for each pending delivery whose next attempt is overdue by more than
    `ATRIUM_WEBHOOK_RECONCILE_AFTER_SECONDS` and that no attempt holds: its message was lost (Redis
    restarted, a worker died holding it). Moving `next_attempt_at` to now makes the new message due and
    keeps the next reconciliation from sending another before this one has had its chance."""
    now = timezone.now()
    overdue = now - timedelta(seconds=settings.ATRIUM_WEBHOOK_RECONCILE_AFTER_SECONDS)
    with transaction.atomic():
        ids = [
            str(delivery_id)
            for delivery_id in WebhookDelivery.unscoped.select_for_update(skip_locked=True)
            .filter(status=WebhookStatus.PENDING)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .filter(Q(next_attempt_at__lt=overdue) | Q(next_attempt_at__isnull=True, created_at__lt=overdue))
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:RECONCILE_BATCH]
        ]
        WebhookDelivery.unscoped.filter(id__in=ids).update(next_attempt_at=now, leased_until=None)
        for delivery_id in ids:
            transaction.on_commit(lambda d=delivery_id: _send_task(d), robust=True)  # type: ignore[misc]
    if ids:
        logger.warning("re-sent %d webhook deliveries whose messages were lost", len(ids))
    return len(ids)


def webhook_redeliver(*, delivery_ids: list[uuid.UUID]) -> int:
    """Send finished deliveries again from a fresh attempt count (an operator's action). Returns how
    many were reset; pending ones are left to their own retries."""
    with transaction.atomic():
        ids = list(
            WebhookDelivery.unscoped.select_for_update()
            .filter(id__in=delivery_ids)
            .exclude(status=WebhookStatus.PENDING)
            .values_list("id", flat=True)
        )
        WebhookDelivery.unscoped.filter(id__in=ids).update(
            status=WebhookStatus.PENDING,
            attempts=0,
            last_error="",
            response_status=None,
            next_attempt_at=timezone.now(),
            leased_until=None,
        )
        for delivery_id in ids:
            transaction.on_commit(lambda d=str(delivery_id): _send_task(d), robust=True)  # type: ignore[misc]
    return len(ids)
