"""`POST /agent/runs/batch` creates all of its runs in one transaction (lifecycle.create_batch). Without
a bound on its length, one request of a few megabytes (a minimal run is ~30 bytes of JSON) held one
transaction open for hundreds of thousands of thread and run inserts, under row locks, and spent the
org's whole run allowance for the minute at once. A batch longer than ATRIUM_RUNS_BATCH_MAX is refused
(422, naming the limit) before any run is counted or created.
"""

from __future__ import annotations

import uuid

import httpx
from django.conf import settings

from atrium.runtime.tests.live_stack import LiveStack


def test_a_batch_over_the_limit_is_refused_and_creates_nothing(stack: LiveStack) -> None:
    # Given an end user and the deployment's batch limit
    limit: int = settings.ATRIUM_RUNS_BATCH_MAX
    marker = {"batch": uuid.uuid4().hex}
    run = {"assistant_id": "simple", "input": {"steps": []}, "metadata": marker, "on_completion": "keep"}

    with httpx.Client(base_url=stack.url, headers=stack.headers("enduser"), timeout=60) as api:
        # When they send one batch with a run more than the limit
        response = api.post("/runs/batch", json=[run] * (limit + 1))

        # Then it is refused, naming the limit
        assert response.status_code == 422, response.text[:300]
        assert "ATRIUM_RUNS_BATCH_MAX" in response.json()["detail"]
        # And none of its runs, nor their threads, were created
        found = api.post("/threads/search", json={"metadata": marker, "limit": 10})
        assert found.status_code == 200, found.text
        assert found.json() == []

        # And a batch within the limit still creates its runs
        accepted = api.post("/runs/batch", json=[run, run])
        assert accepted.status_code == 200, accepted.text
        assert len(accepted.json()) == 2
