"""Atrium's hot-path benchmark, through the official Python SDK. Prints one JSON line.

    python bench.py --url http://127.0.0.1:8000/agent [--api-key KEY] [--quick]

Measures, for the trivial `echo` graph and the deep agent (`agent`, offline model):
  - runs.wait latency (p50/p95),
  - streamed runs: time to first event and to completion (p50/p95),
  - completed runs/s with 1, 8 and 32 concurrent clients, each looping create-thread + wait,
and the latency of a history fetch (limit 10). The same script measures `langgraph dev` for
`make bench-compare` (no API key there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from langgraph_sdk import get_client

MESSAGE = {"messages": [{"role": "user", "content": "hello there"}]}
# The deep agent's memory is scoped by these ids. Atrium supplies them from the authenticated caller
# (and ignores client values); `langgraph dev` has no caller, so the benchmark passes them.
CONTEXT = {"agent": {"user_id": "bench-user", "org_id": "bench-org", "assistant_id": "bench-assistant"}}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 2)


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 0.5), "p95": pct(values, 0.95), "n": len(values)}


async def wait_latency(client: Any, graph: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        thread = await client.threads.create()
        started = time.perf_counter()
        await client.runs.wait(thread["thread_id"], graph, input=MESSAGE, context=CONTEXT.get(graph))
        out.append((time.perf_counter() - started) * 1000)
    return out


async def stream_latency(client: Any, graph: str, n: int) -> tuple[list[float], list[float]]:
    first, total = [], []
    for _ in range(n):
        thread = await client.threads.create()
        started = time.perf_counter()
        seen = None
        parts = client.runs.stream(
            thread["thread_id"], graph, input=MESSAGE, stream_mode="values", context=CONTEXT.get(graph)
        )
        async for _part in parts:
            if seen is None:
                seen = (time.perf_counter() - started) * 1000
        total.append((time.perf_counter() - started) * 1000)
        first.append(seen or total[-1])
    return first, total


async def history_latency(client: Any, graph: str, n: int) -> list[float]:
    thread = await client.threads.create()
    for _ in range(3):
        await client.runs.wait(thread["thread_id"], graph, input=MESSAGE, context=CONTEXT.get(graph))
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await client.threads.get_history(thread["thread_id"], limit=10)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def throughput(make_client: Any, graph: str, clients: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds
    done = 0

    async def loop() -> None:
        nonlocal done
        client = make_client()
        while time.perf_counter() < deadline:
            thread = await client.threads.create()
            await client.runs.wait(thread["thread_id"], graph, input=MESSAGE, context=CONTEXT.get(graph))
            if time.perf_counter() <= deadline:
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    return round(done / (time.perf_counter() - started), 1)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke test of the harness)")
    parser.add_argument("--label", default="atrium")
    args = parser.parse_args()
    n = 10 if args.quick else 60
    seconds = 2.0 if args.quick else 10.0

    def make_client() -> Any:
        return get_client(url=args.url, api_key=args.api_key, timeout=300)

    client = make_client()
    result: dict[str, Any] = {"target": args.label, "durability": "sync"}
    for graph, samples in (("echo", n), ("agent", max(5, n // 3))):
        await wait_latency(client, graph, 3)  # warm-up: imports, pools, caches
        waits = await wait_latency(client, graph, samples)
        first, total = await stream_latency(client, graph, samples)
        result[graph] = {
            "wait_ms": summary(waits),
            "stream_first_event_ms": summary(first),
            "stream_total_ms": summary(total),
            "runs_per_s": {str(c): await throughput(make_client, graph, c, seconds) for c in (1, 8, 32)},
        }
        print(f"{graph} done", file=sys.stderr)
    result["history_limit10_ms"] = summary(await history_latency(client, "echo", n))
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
