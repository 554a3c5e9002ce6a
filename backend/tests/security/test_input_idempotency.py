"""Idempotency keys belong to their caller (org and user), and a race on one key is not a 500.

Finding 4: the key was looked up per org: bob sending alice's key got alice's run (input, config,
result and replayed events). Two requests racing on one new key answered 500 (the unique constraint)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.conformance.helpers import new_thread, wait_for_status
from atrium.runtime.tests.live_stack import LiveStack


def _run_body(secret: str) -> dict[str, Any]:
    return {"assistant_id": "simple", "input": {"steps": [secret]}, "metadata": {"secret": secret}}


async def test_another_members_key_does_not_find_their_run(stack: LiveStack) -> None:
    key = f"key-{uuid.uuid4().hex}"
    alice, bob = stack.client("editor"), stack.client("editor2")
    alice_thread, bob_thread = await new_thread(alice), await new_thread(bob)
    async with (
        httpx.AsyncClient(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as alice_http,
        httpx.AsyncClient(base_url=stack.url, headers=stack.headers("editor2"), timeout=30) as bob_http,
    ):
        alices = await alice_http.post(
            f"/threads/{alice_thread}/runs", json=_run_body("alice-secret"), headers={"Idempotency-Key": key}
        )
        bobs = await bob_http.post(
            f"/threads/{bob_thread}/runs", json=_run_body("bob-input"), headers={"Idempotency-Key": key}
        )
        bob_wait = await bob_http.post(
            "/runs/wait", json=_run_body("bob-wait"), headers={"Idempotency-Key": key}
        )

    assert alices.status_code == 200, alices.text
    assert bobs.status_code == 200, bobs.text
    assert bobs.json()["run_id"] != alices.json()["run_id"]
    assert bobs.json()["thread_id"] == bob_thread
    assert "alice-secret" not in bobs.text
    assert "alice-secret" not in bob_wait.text
    # Each caller's own retry still finds their own run.
    async with httpx.AsyncClient(
        base_url=stack.url, headers=stack.headers("editor2"), timeout=30
    ) as bob_http:
        again = await bob_http.post(
            f"/threads/{bob_thread}/runs", json=_run_body("bob-retry"), headers={"Idempotency-Key": key}
        )
    assert again.json()["run_id"] == bobs.json()["run_id"]
    await wait_for_status(alice, alice_thread, alices.json()["run_id"])
    await wait_for_status(bob, bob_thread, bobs.json()["run_id"])


@pytest.mark.parametrize("path", ["/runs", "/threads/{thread}/runs"], ids=["stateless", "on-a-thread"])
async def test_requests_racing_on_one_key_all_get_the_winners_run(stack: LiveStack, path: str) -> None:
    client = stack.client("editor")
    key = f"race-{uuid.uuid4().hex}"
    thread = await new_thread(client)
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as http:

        async def create(i: int) -> httpx.Response:
            return await http.post(
                path.format(thread=thread),
                json={**_run_body(f"attempt-{i}"), "on_completion": "keep"},
                headers={"Idempotency-Key": key},
            )

        responses = await asyncio.gather(*(create(i) for i in range(8)))

    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    run_ids = {r.json()["run_id"] for r in responses}
    assert len(run_ids) == 1
    (run_id,) = run_ids
    thread_id = responses[0].json()["thread_id"]
    assert (await wait_for_status(client, thread_id, run_id))["status"] == "success"
    assert [run["run_id"] for run in await client.runs.list(thread_id)] == [run_id]
