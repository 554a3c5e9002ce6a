"""Every adapter switched to its library's stock path at once (`ATRIUM_STOCK_LIBRARY_PATHS=all`): a real
uvicorn and Celery worker still serve runs end to end. This is the fallback the upgrade runbook offers
when an adapter's contract test fails (docs/runbooks/upgrade-dependencies.md), so it must keep working:
runs enqueued through Celery's own publish and kombu's own transport, /agent on Django's own handler,
checkpoints through LangGraph's own write statements (still fenced), the store and pool as shipped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from atrium.runtime.tests.live_stack import GRAPHS_FILE, XDIST_INDEX, LiveStack, running_stack

# Not a database another live stack of the suite uses (conformance 11, beats 12, TTLs 14, fuzz 15).
REDIS_DB = 20 + XDIST_INDEX
# One stack per module and xdist worker, on a Redis database of its own (see live_stack.REDIS_DB).
pytestmark = pytest.mark.xdist_group("stock-paths-stack")


@pytest.fixture(scope="module")
def stock_stack(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveStack]:
    with running_stack(
        name="stock-paths",
        graphs=GRAPHS_FILE,
        redis_db=REDIS_DB,
        env={"ATRIUM_STOCK_LIBRARY_PATHS": "all", "OPENAI_API_KEY": ""},
        django_db_blocker=django_db_blocker,
        tmp_path_factory=tmp_path_factory,
        concurrency=4,
    ) as stack:
        yield stack


def test_runs_complete_with_every_library_on_its_stock_path(stock_stack: LiveStack) -> None:
    client = stock_stack.sync_client("editor", timeout=60)
    # a three-step run on a thread: enqueued, claimed, checkpointed at each step, finished
    thread = client.threads.create()
    result = client.runs.wait(thread["thread_id"], "simple", input={"steps": []})
    assert result["steps"] == ["first", "second", "third"], stock_stack.logs()
    state = client.threads.get_state(thread["thread_id"])
    assert state["values"]["steps"] == ["first", "second", "third"]
    assert len(list(client.threads.get_history(thread["thread_id"]))) == 5  # input, three steps, start
    [run] = client.runs.list(thread["thread_id"])
    assert run["status"] == "success"
    # a streamed run: its events reach the client, and its end
    chunks = list(
        client.runs.stream(thread["thread_id"], "simple", input={"steps": []}, stream_mode="values")
    )
    assert chunks[-1].event == "values", stock_stack.logs()
    assert chunks[-1].data["steps"] == ["first", "second", "third"] * 2
    # a graph that writes, reads and searches the store (LangGraph's own store on the stock pool)
    key = uuid.uuid4().hex
    remembered = client.runs.wait(
        None, "memory", input={"namespace": ["notes"], "key": key, "value": {"likes": "tea"}}
    )
    assert remembered["found"] == {"likes": "tea"}, stock_stack.logs()
    assert key in remembered["listed"]
    assert "Traceback" not in stock_stack.logs(400)
