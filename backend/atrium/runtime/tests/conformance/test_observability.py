"""Observability of the live stack: one trace from the HTTP request through the broker to the worker
and the graph's tool and model calls; JSON log lines carrying the run's ids; no credential in any log."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from atrium.runtime.tests.conformance.conftest import LiveStack


def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_one_trace_spans_web_broker_worker_and_the_graphs_calls(stack: LiveStack) -> None:
    # given a thread, when a run of the tool-calling graph is waited on over HTTP
    with httpx.Client(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as http:
        thread_id = http.post("/threads", json={}).json()["thread_id"]
        response = http.post(f"/threads/{thread_id}/runs/wait", json={"assistant_id": "tooler", "input": {}})
        assert response.status_code == 200
        run_id = http.get(f"/threads/{thread_id}/runs").json()[0]["run_id"]

    # then the web process's server span for that request is the root of one trace...
    def request_span() -> dict[str, Any] | None:
        return next(
            (
                s
                for s in stack.otlp.spans()
                if s["service"] == "atrium-web"
                and not s["parent_id"]
                and f"/threads/{thread_id}/runs/wait"
                in str(s["attributes"].get("url.path") or "") + str(s["attributes"].get("http.target") or "")
            ),
            None,
        )

    root = wait_for(request_span)
    assert root is not None, [s["name"] for s in stack.otlp.spans()][-30:]
    trace_id = root["trace_id"]

    def trace_spans() -> list[dict[str, Any]]:
        spans = [s for s in stack.otlp.spans() if s["trace_id"] == trace_id]
        names = {s["name"] for s in spans}
        expected = {"tool task", "run/atrium.runtime.execute_run", "apply_async/atrium.runtime.execute_run"}
        done = expected <= names and any(n.startswith("chat ") for n in names)
        return spans if done else []

    spans = wait_for(trace_spans)
    assert spans, sorted({s["name"] for s in stack.otlp.spans() if s["trace_id"] == trace_id})
    by_id = {s["span_id"]: s for s in spans}
    by_name = {s["name"]: s for s in spans}

    # ... which holds the task's publish in the web process, its execution in the worker, ...
    publish = by_name["apply_async/atrium.runtime.execute_run"]
    execute = by_name["run/atrium.runtime.execute_run"]
    assert publish["service"] == "atrium-web"
    assert execute["service"] == "atrium-worker"
    assert execute["parent_id"] == publish["span_id"]
    assert execute["attributes"].get("celery.task_name") == "atrium.runtime.execute_run"

    # ... and, under the execution, the tool call with the model call its subagent made
    def ancestors(span: dict[str, Any]) -> list[str]:
        chain = []
        while span["parent_id"] in by_id:
            span = by_id[span["parent_id"]]
            chain.append(span["name"])
        return chain

    tool = by_name["tool task"]
    chat = next(s for s in spans if s["name"].startswith("chat "))
    assert tool["service"] == chat["service"] == "atrium-worker"
    assert tool["attributes"]["gen_ai.tool.name"] == "task"
    assert ancestors(tool)[0] == "run/atrium.runtime.execute_run"
    assert ancestors(chat)[0] == "tool task"
    assert ancestors(chat)[-1] == root["name"]  # back to the HTTP request, through the broker
    assert run_id  # the run the trace is about


def log_lines(stack: LiveStack) -> list[str]:
    return [line for path in sorted(stack.log_dir.glob("*.log")) for line in path.read_text().splitlines()]


def test_a_full_run_logs_json_with_its_ids_and_no_credential(stack: LiveStack) -> None:
    # given an editor's API key, a secret in the run's context, and a caller with a wrong key
    key = stack.keys["editor"]
    secret = "sk-live-0123456789abcdefSECRETVALUE"
    wrong = key[:-6] + "AAAAAA"
    with httpx.Client(base_url=stack.url, headers=stack.headers("editor"), timeout=30) as http:
        # when a run executes end to end, and a graph fails (its traceback is logged)
        thread_id = http.post("/threads", json={}).json()["thread_id"]
        ok = http.post(
            f"/threads/{thread_id}/runs/wait",
            json={"assistant_id": "chat", "input": {"messages": [{"role": "user", "content": "hi"}]}},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert ok.status_code == 200
        run_id = http.get(f"/threads/{thread_id}/runs").json()[0]["run_id"]
        failing = http.post(f"/threads/{thread_id}/runs/wait", json={"assistant_id": "failing", "input": {}})
        assert failing.status_code == 200
        assert httpx.get(f"{stack.url}/threads/{thread_id}", headers={"x-api-key": wrong}).status_code == 401

    # then the worker logged the run's lines as JSON, with the run's ids
    def run_lines() -> list[dict[str, Any]]:
        entries = []
        for line in log_lines(stack):
            if line.startswith("{") and run_id in line:
                entries.append(json.loads(line))
        return entries

    entries = wait_for(run_lines)
    assert entries, "\n".join(log_lines(stack)[-30:])
    tagged = [e for e in entries if e.get("run_id") == run_id]
    assert tagged
    assert all(e["thread_id"] == thread_id for e in tagged)
    assert all(e.get("org_id") for e in tagged)

    # and no log line anywhere holds the key, the wrong key, or the secret
    text = "\n".join(log_lines(stack))
    assert "kaboom" in text  # the failure's traceback is there...
    for credential in (key, key.split("_", 2)[2], wrong, secret):
        assert credential not in text  # ...but no credential
