"""A thread deleted in the Django admin takes its checkpoints with it, as one deleted through the API
does (issue 18, lifecycle): the admin's delete, single or bulk, goes through `thread_delete`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import Client

from atrium.runtime.tests.live_stack import LiveStack

CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


def _rows(thread_ids: list[str]) -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cur:
        for table in CHECKPOINT_TABLES:
            cur.execute(f"SELECT count(*) FROM {table} WHERE thread_id = ANY(%s)", [thread_ids])
            counts[table] = cur.fetchone()[0]
    return counts


@pytest.fixture
def admin_browser(stack: LiveStack, django_db_blocker: Any) -> Iterator[Client]:
    from django.db import connection

    from atrium.orgs.keys import parse_prefix
    from atrium.orgs.models import ApiKey

    with django_db_blocker.unblock():
        browser = Client()
        browser.force_login(ApiKey.unscoped.get(prefix=parse_prefix(stack.keys["admin"])).user)
        try:
            yield browser
        finally:
            connection.close()


def _threads_with_checkpoints(stack: LiveStack, count: int) -> list[str]:
    client = stack.sync_client("editor")
    thread_ids = []
    for _ in range(count):
        thread_id = str(client.threads.create()["thread_id"])
        client.runs.wait(thread_id, "simple", input={"steps": []})
        thread_ids.append(thread_id)
    return thread_ids


def test_deleting_a_thread_in_the_admin_removes_its_checkpoints(
    stack: LiveStack, admin_browser: Client
) -> None:
    (thread_id,) = _threads_with_checkpoints(stack, 1)
    assert _rows([thread_id])["checkpoints"] > 0
    response = admin_browser.post(f"/admin/runtime/thread/{thread_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _rows([thread_id]) == dict.fromkeys(CHECKPOINT_TABLES, 0)
    gone = httpx.get(f"{stack.url}/threads/{thread_id}", headers=stack.headers("admin"))
    assert gone.status_code == 404


def test_the_admins_bulk_delete_removes_every_threads_checkpoints(
    stack: LiveStack, admin_browser: Client
) -> None:
    thread_ids = _threads_with_checkpoints(stack, 2)
    assert _rows(thread_ids)["checkpoints"] > 0
    response = admin_browser.post(
        "/admin/runtime/thread/",
        {"action": "delete_selected", "_selected_action": thread_ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert _rows(thread_ids) == dict.fromkeys(CHECKPOINT_TABLES, 0)
    for thread_id in thread_ids:
        gone = httpx.get(f"{stack.url}/threads/{thread_id}", headers=stack.headers("admin"))
        assert gone.status_code == 404
