"""§1.6 crons (row 28)."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk.errors import UnprocessableEntityError

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.conformance.helpers import is_uuid, new_thread

CRON_FIELDS = {
    "cron_id",
    "assistant_id",
    "thread_id",
    "schedule",
    "payload",
    "metadata",
    "next_run_date",
    "created_at",
    "updated_at",
    "enabled",
}


async def test_cron_lifecycle(stack: LiveStack, http: httpx.AsyncClient) -> None:
    """Row 28."""
    client = stack.client()
    tid = await new_thread(client)
    for_thread = await client.crons.create_for_thread(
        tid, "simple", schedule="*/5 * * * *", input={"steps": []}
    )
    assert set(for_thread) >= CRON_FIELDS
    assert is_uuid(for_thread["cron_id"])
    assert for_thread["thread_id"] == tid
    assert for_thread["enabled"] is True
    stateless = await client.crons.create(
        "simple", schedule="0 * * * *", input={"steps": []}, metadata={"suite": "conf"}
    )
    assert stateless["thread_id"] is None
    updated = await client.crons.update(stateless["cron_id"], enabled=False)
    assert updated["enabled"] is False
    assert await client.crons.count() >= 2
    assert await client.crons.count(thread_id=tid) == 1
    found = await client.crons.search(thread_id=tid)
    assert [c["cron_id"] for c in found] == [for_thread["cron_id"]]
    got = await http.get(f"/runs/crons/{for_thread['cron_id']}")
    assert got.status_code == 200
    assert got.json()["schedule"] == "*/5 * * * *"
    search = await http.post("/runs/crons/search", json={"limit": 1})
    assert search.headers["X-Pagination-Total"]
    for cron in (for_thread, stateless):
        response = await http.delete(f"/runs/crons/{cron['cron_id']}")
        assert response.status_code == 204
    assert await client.crons.count(thread_id=tid) == 0


async def test_invalid_schedule_is_422(stack: LiveStack) -> None:
    with pytest.raises(UnprocessableEntityError):
        await stack.client().crons.create("simple", schedule="not a schedule")


async def test_empty_update_is_400(stack: LiveStack, http: httpx.AsyncClient) -> None:
    cron = await stack.client().crons.create("simple", schedule="0 0 * * *")
    response = await http.patch(f"/runs/crons/{cron['cron_id']}", json={})
    assert response.status_code == 400
    await http.delete(f"/runs/crons/{cron['cron_id']}")
