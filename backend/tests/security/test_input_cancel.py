"""Only the documented cancel actions (`interrupt`, `rollback`; agent-protocol.md) are accepted.

Finding 3: `POST /agent/runs/cancel?action=fenced` was accepted; the run was then told an action the
worker does not know, stayed `running` forever and kept its thread busy."""

from __future__ import annotations

import httpx
import pytest

from atrium.runtime.tests.conformance.helpers import (
    new_thread,
    slow_input,
    wait_for_status,
    wait_until_running,
)
from atrium.runtime.tests.live_stack import LiveStack

UNDOCUMENTED = ["fenced", "", "INTERRUPT", "delete"]


@pytest.mark.parametrize("action", UNDOCUMENTED)
async def test_an_undocumented_cancel_action_is_422_and_the_run_carries_on(
    stack: LiveStack, http: httpx.AsyncClient, action: str
) -> None:
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "slow", input=slow_input(n=8, delay=0.1))
    await wait_until_running(client, tid, run["run_id"])

    many = await http.post(
        "/runs/cancel", params={"action": action}, json={"thread_id": tid, "run_ids": [run["run_id"]]}
    )
    by_status = await http.post("/runs/cancel", params={"action": action}, json={"status": "all"})
    one = await http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel", params={"action": action})

    for response in (many, by_status, one):
        assert response.status_code == 422, response.text
        assert "action" in response.json()["detail"]
    # Nothing changed: the run goes on to finish normally and the thread is free again.
    assert (await wait_for_status(client, tid, run["run_id"]))["status"] == "success"
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_the_documented_actions_still_cancel(stack: LiveStack, http: httpx.AsyncClient) -> None:
    client = stack.client()
    tid = await new_thread(client)
    run = await client.runs.create(tid, "slow", input=slow_input(n=30, delay=0.1))
    await wait_until_running(client, tid, run["run_id"])

    response = await http.post(
        "/runs/cancel", params={"action": "interrupt"}, json={"thread_id": tid, "run_ids": [run["run_id"]]}
    )

    assert response.status_code == 204, response.text
    assert (await wait_for_status(client, tid, run["run_id"]))["status"] == "interrupted"
