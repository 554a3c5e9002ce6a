"""A run's webhook end to end: the worker finishes the run, the Celery task POSTs the signed result to a
real receiver on loopback, retries after the receiver's 500, and the delivery log records both."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from standardwebhooks import Webhook

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import new_thread, wait_for_status
from atrium.runtime.tests.receiver import Receiver


@pytest.fixture
def org_a(live_stack: LiveStack, django_db_blocker: Any) -> Iterator[str]:
    """Org `a`'s slug, with private webhook addresses allowed for the test (the receiver is loopback)."""
    from atrium.orgs.models import Organization, OrgSettings

    slug = live_stack.org_slug()
    with django_db_blocker.unblock():
        org = Organization.objects.get(slug=slug)
        OrgSettings.unscoped.update_or_create(org=org, defaults={"webhook_allow_private": True})
    try:
        yield slug
    finally:
        with django_db_blocker.unblock():
            OrgSettings.unscoped.filter(org=org).update(webhook_allow_private=False)


async def test_a_finished_runs_webhook_is_signed_retried_and_logged(
    stack: LiveStack, org_a: str, receiver: Receiver, django_db_blocker: Any
) -> None:
    # given a receiver that fails once, and the org's secret as its admin reads it
    receiver.statuses = [500, 200]
    async with httpx.AsyncClient(base_url=stack.base_url, headers=stack.headers("admin")) as admin:
        secret = (await admin.get(f"/api/v1/orgs/{org_a}/webhook-secret")).json()["secret"]
    client = stack.client()
    tid = await new_thread(client)
    # when a run with a webhook completes
    run = await client.runs.create(tid, "simple", input={"steps": []}, webhook=receiver.url)
    await wait_for_status(client, tid, run["run_id"], ["success"])
    # then the receiver gets the result twice (a 500, then a retry), signed, with one webhook-id
    first, second = receiver.wait_for(2)[:2]
    bodies = [Webhook(secret).verify(r.body, r.headers) for r in (first, second)]
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert [b["run_id"] for b in bodies] == [run["run_id"]] * 2
    assert bodies[1]["status"] == "success"
    assert bodies[1]["values"]["steps"] == ["first", "second", "third"]
    assert bodies[1]["thread_id"] == tid
    # and the delivery log shows it delivered on the second attempt
    from atrium.runtime.models import WebhookDelivery

    def logged() -> WebhookDelivery:
        from django.db import connection

        try:
            with django_db_blocker.unblock():
                return WebhookDelivery.unscoped.get(run_id=run["run_id"])
        finally:
            connection.close()  # this thread's connection would keep the test database from being dropped

    # (the worker records the attempt once the receiver has answered: give it a moment)
    delivery = await sync_to_async(logged)()
    for _ in range(50):
        if delivery.status != "pending":
            break
        await asyncio.sleep(0.1)
        delivery = await sync_to_async(logged)()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 2, 200)
    assert str(delivery.id) == first.headers["webhook-id"]
