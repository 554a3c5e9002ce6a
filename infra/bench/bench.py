"""Atrium's hot-path benchmark, through the official Python SDK. Prints one JSON line.

    python bench.py --url http://127.0.0.1:8000/agent [--api-key KEY] [--quick]

Measures, for the trivial `echo` graph and the deep agent (`agent`, offline model):
  - runs.wait latency (p50/p95),
  - streamed runs: time to first event and to completion (p50/p95),
  - completed runs/s with 1, 8 and 32 concurrent clients, each looping create-thread + wait,
and the latency of a history fetch (limit 10). The same script measures `langgraph dev` for
`make bench-compare` (no API key there).

With `--pid NAME=PID` (bench.sh passes the server's processes) the 32-client phase also reports the CPU
time each process spent per completed run (utime + stime from /proc, children of PID included): unlike
runs/s it does not depend on what else the machine is running. `--cpu-only GRAPH --runs N` measures just
that, for a fixed batch of N runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
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


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live descendants (a server's worker processes, Postgres backends)."""
    total = 0
    for one in [pid, *descendants(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime (fields 14-17; the text after ")" starts at field 3)
        total += sum(int(v) for v in fields[11:15])
    return total / TICKS


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        children: list[str] = []
        try:  # each thread has its own list (uv spawns the interpreter from a worker thread)
            for task in os.listdir(f"/proc/{parent}/task"):
                children += Path(f"/proc/{parent}/task/{task}/children").read_text().split()
        except OSError:
            continue
        found += [int(c) for c in children]
        todo += [int(c) for c in children]
    return found


PIDS: dict[str, int] = {}


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_per_run(before: dict[str, float], client_before: float, runs: int) -> dict[str, float]:
    """Server CPU ms per run ("total": the processes given with --pid), and this SDK client's own."""
    after = cpu_snapshot(PIDS)
    out = {name: round((after[name] - before[name]) * 1000 / runs, 2) for name in before}
    out["total"] = round(sum(out.values()), 2)
    out["sdk_client"] = round((time.process_time() - client_before) * 1000 / runs, 2)
    return out


async def batch(make_client: Any, graph: str, clients: int, runs: int) -> dict[str, Any]:
    """A fixed number of runs by `clients` concurrent loops: wall time and CPU per run."""
    left = runs

    async def loop() -> None:
        nonlocal left
        client = make_client()
        while left > 0:
            left -= 1
            thread = await client.threads.create()
            await client.runs.wait(thread["thread_id"], graph, input=MESSAGE, context=CONTEXT.get(graph))

    before, client_before = cpu_snapshot(PIDS), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cpu = cpu_per_run(before, client_before, runs)
    return {"runs": runs, "runs_per_s": round(runs / elapsed, 1), "cpu_ms_per_run": cpu}


# Each concurrency first runs untimed for a while (both targets alike): connection and thread pools grow
# to the new concurrency then, so the windows measure the steady state. The median of the windows is
# reported, with all of them beside it (the reference server moves a lot from one window to the next).
WARM_UP_SECONDS = 3.0
WINDOWS = 3


async def throughput_windows(
    make_client: Any, graph: str, clients: int, seconds: float, count: int = WINDOWS
) -> dict[str, Any]:
    await throughput(make_client, graph, clients, WARM_UP_SECONDS if seconds > 2.0 else 0.5)
    windows = [await throughput(make_client, graph, clients, seconds) for _ in range(count)]
    return {"median": statistics.median(windows), "windows": windows}


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
    parser.add_argument("--pid", action="append", default=[], help="NAME=PID: report its CPU per run")
    parser.add_argument("--cpu-only", metavar="GRAPH", help="only a fixed batch of runs at 32 clients")
    parser.add_argument("--runs", type=int, default=400, help="batch size for --cpu-only")
    args = parser.parse_args()
    PIDS.update({name: int(pid) for name, pid in (item.split("=", 1) for item in args.pid)})
    # --quick checks that the harness works (make test runs it), in seconds: its figures are rough.
    n = 5 if args.quick else 60
    seconds = 1.0 if args.quick else 10.0
    windows = 1 if args.quick else WINDOWS

    def make_client() -> Any:
        return get_client(url=args.url, api_key=args.api_key, timeout=300)

    client = make_client()
    result: dict[str, Any] = {"target": args.label, "durability": "sync"}
    if args.cpu_only:
        await wait_latency(client, args.cpu_only, 3)
        await batch(make_client, args.cpu_only, 32, 64)  # warm-up at concurrency: pools, threads
        result[args.cpu_only] = {"batch_32_clients": await batch(make_client, args.cpu_only, 32, args.runs)}
        print(json.dumps(result))
        return
    for graph, samples in (("echo", n), ("agent", max(5, n // 3))):
        await wait_latency(client, graph, 3)  # warm-up: imports, pools, caches
        waits = await wait_latency(client, graph, samples)
        first, total = await stream_latency(client, graph, samples)
        result[graph] = {
            "wait_ms": summary(waits),
            "stream_first_event_ms": summary(first),
            "stream_total_ms": summary(total),
        }
        by_clients = {
            str(c): await throughput_windows(make_client, graph, c, seconds, windows) for c in (1, 8, 32)
        }
        result[graph]["runs_per_s"] = {c: w["median"] for c, w in by_clients.items()}
        result[graph]["runs_per_s_windows"] = {c: w["windows"] for c, w in by_clients.items()}
        if PIDS:
            runs = 20 if args.quick else 400
            result[graph]["batch_32_clients"] = await batch(make_client, graph, 32, runs)
        print(f"{graph} done", file=sys.stderr)
    result["history_limit10_ms"] = summary(await history_latency(client, "echo", n))
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
