"""How many I/O-bound runs a server holds at once, through the official Python SDK (`make bench-inflight`).

    python inflight.py --url URL [--api-key KEY] [--pid NAME=PID ...] [--dsn DSN] [--quick | --long N]
    python inflight.py --combine OURS.json THEIRS.json

The graph (`inflight/graph.py`, id `waits`) waits like an agent: a model call (1 s), a tool (0.2 s), a
model call (1 s), no CPU. C clients each loop create-thread + `runs.wait`; for C in 16, 64, 256, 1024
it reports completed runs/s in a measuring window, their share of the ideal C / 2.2, latency p50/p95,
the peak RSS of the server's process tree (`--pid`, children included), the runs in flight at the
server (Little's law: runs/s x mean latency) and errors. Then the RSS growth per 100 more runs in
flight, between the lowest and highest level.

`--long N`: N clients each start one run with 30 s model waits, all at once, and wait on it: every run
must complete and none be refused; it reports the peak RSS and (with `--dsn`, ours only) the peak
count of runs `running` at once. `--quick`: 4 clients, 0.2 s waits, a 2 s window (a smoke run).
`--combine` prints both results and the ours/theirs ratios, with the issue's targets checked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import ssl
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from bench import descendants, pct
from compare import ratios
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

GRAPH = "waits"
STEPS = ["model", "tool", "answer"]
LEVELS = (16, 64, 256, 1024)


_TLS = ssl.create_default_context()


def sdk_clients(url: str, key: str | None, timeout: float) -> Any:
    """A factory of the official SDK's clients as `get_client` builds them, all sharing one TLS
    context: `get_client` loads the CA bundle for each client (~17 ms of CPU), which at 1,024 clients
    made the benchmark itself the bottleneck."""
    headers = get_client(url=url, api_key=key).http.client.headers  # its headers (API key, user agent)

    def make() -> LangGraphClient:
        transport = httpx.AsyncHTTPTransport(retries=5, verify=_TLS)
        return LangGraphClient(
            httpx.AsyncClient(base_url=url, transport=transport, timeout=timeout, headers=headers)
        )

    return make


def rss_mib(pids: list[int]) -> float:
    """Resident memory of the processes and their descendants (shared pages count once per process)."""
    total_kib = 0
    for pid in pids:
        for one in [pid, *descendants(pid)]:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{one}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
    return round(total_kib / 1024, 1)


class Sampler:
    """Samples the server's RSS (and, with a DSN, its running runs) in the background; `take` returns
    the peaks since the last take."""

    def __init__(self, pids: list[int], dsn: str | None) -> None:
        self.pids, self.dsn = pids, dsn
        self.peak_rss = 0.0
        self.peak_running = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        conn = None
        if self.dsn:
            import psycopg

            conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        try:
            while True:
                self.peak_rss = max(self.peak_rss, await asyncio.to_thread(rss_mib, self.pids))
                if conn is not None:
                    cur = await conn.execute("SELECT count(*) FROM runtime_run WHERE status = 'running'")
                    row = await cur.fetchone()
                    self.peak_running = max(self.peak_running, int(row[0]) if row else 0)
                await asyncio.sleep(0.25)
        finally:
            if conn is not None:
                await conn.close()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def take(self) -> dict[str, Any]:
        out: dict[str, Any] = {"peak_rss_mib": self.peak_rss}
        if self.dsn:
            out["peak_running"] = self.peak_running
        self.peak_rss, self.peak_running = rss_mib(self.pids), 0
        return out

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _error(exc: BaseException) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {str(exc)[:160]}"


async def one_run(client: Any, waits: dict[str, float]) -> None:
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], GRAPH, input=dict(waits))
    if not isinstance(result, dict) or result.get("steps") != STEPS:
        raise RuntimeError(f"unexpected result {str(result)[:160]}")


async def level(
    url: str, key: str | None, clients: int, waits: dict[str, float], warm_up: float, window: float
) -> dict[str, Any]:
    """`clients` loops for `warm_up` + `window` seconds; runs that end within the window count."""
    make = sdk_clients(url, key, 600)
    start = time.perf_counter()
    measure_from, measure_to = start + warm_up, start + warm_up + window
    latencies: list[float] = []
    errors: list[str] = []

    async def loop() -> None:
        client = make()
        try:
            while time.perf_counter() < measure_to:
                began = time.perf_counter()
                try:
                    await one_run(client, waits)
                except Exception as exc:  # counted and reported: the server refused or failed a run
                    errors.append(_error(exc))
                    await asyncio.sleep(0.2)
                    continue
                ended = time.perf_counter()
                if measure_from <= ended <= measure_to:
                    latencies.append(ended - began)
        finally:
            await client.aclose()

    await asyncio.gather(*(loop() for _ in range(clients)))
    per_run = 2 * waits["model_seconds"] + waits["tool_seconds"]
    runs_per_s = len(latencies) / window
    mean = statistics.fmean(latencies) if latencies else 0.0
    return {
        "clients": clients,
        "runs_per_s": round(runs_per_s, 1),
        "of_ideal": round(runs_per_s / (clients / per_run), 3),
        "p50_s": pct(latencies, 0.5),
        "p95_s": pct(latencies, 0.95),
        "inflight": round(runs_per_s * mean, 1),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
    }


async def levels(args: argparse.Namespace, sampler: Sampler) -> dict[str, Any]:
    if args.quick:
        waits, counts, warm_up, window = {"model_seconds": 0.2, "tool_seconds": 0.05}, [4], 0.5, 2.0
    else:
        waits = {"model_seconds": 1.0, "tool_seconds": 0.2}
        counts, warm_up, window = [int(c) for c in args.clients.split(",")], 5.0, args.seconds
    out: dict[str, Any] = {"target": args.label, "waits": waits, "rss_idle_mib": rss_mib(sampler.pids)}
    client = sdk_clients(args.url, args.api_key, 120)()
    await one_run(client, waits)  # warm-up: imports, pools, the graph
    await client.aclose()
    sampler.take()
    for clients in counts:
        result = await level(args.url, args.api_key, clients, waits, warm_up, window)
        result.update(sampler.take())
        out[str(clients)] = result
        print(f"{args.label}: {json.dumps(result)}", file=sys.stderr)
    # Runs held at once: counted at the server when it can be (--dsn), else by Little's law.
    held = {c: out[str(c)].get("peak_running", out[str(c)]["inflight"]) for c in counts}
    low, high = min(counts, key=held.__getitem__), max(counts, key=held.__getitem__)
    if sampler.pids and held[high] > held[low]:
        grown = out[str(high)]["peak_rss_mib"] - out[str(low)]["peak_rss_mib"]
        out["rss_mib_per_100_inflight"] = round(grown / (held[high] - held[low]) * 100, 1)
    return out


async def long_runs(args: argparse.Namespace, sampler: Sampler) -> dict[str, Any]:
    """`args.long` clients, each one run with 30 s model waits, all started at once."""
    waits = {"model_seconds": args.long_model_seconds, "tool_seconds": 0.2}
    latencies: list[float] = []
    errors: list[str] = []

    make = sdk_clients(args.url, args.api_key, 900)

    async def one() -> None:
        client = make()
        began = time.perf_counter()
        try:
            await one_run(client, waits)
            latencies.append(time.perf_counter() - began)
        except Exception as exc:
            errors.append(_error(exc))
        finally:
            await client.aclose()

    sampler.take()
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(args.long)))
    result = {
        "target": args.label,
        "clients": args.long,
        "waits": waits,
        "completed": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "wall_s": round(time.perf_counter() - started, 1),
        "p50_s": pct(latencies, 0.5),
        "p95_s": pct(latencies, 0.95),
        "max_s": round(max(latencies), 2) if latencies else None,
    }
    result.update(sampler.take())
    result["rss_after_mib"] = rss_mib(sampler.pids)
    return result


def combine(ours_path: str, theirs_path: str) -> None:
    ours, theirs = (
        json.loads(Path(p).read_text().strip().splitlines()[-1]) for p in (ours_path, theirs_path)
    )
    targets = {}
    if "64" in ours:
        targets["of_ideal_at_64_ge_0.85"] = ours["64"]["of_ideal"] >= 0.85
    if "256" in ours:
        targets["of_ideal_at_256_ge_0.5"] = ours["256"]["of_ideal"] >= 0.5
        if "256" in theirs and theirs["256"]["runs_per_s"]:
            targets["runs_per_s_at_256_ge_3x_theirs"] = (
                ours["256"]["runs_per_s"] >= 3 * theirs["256"]["runs_per_s"]
            )
    if "rss_mib_per_100_inflight" in ours:
        targets["rss_per_100_inflight_le_50_mib"] = ours["rss_mib_per_100_inflight"] <= 50
    print(
        json.dumps(
            {
                "ours": ours,
                "theirs": theirs,
                "ratio_ours_over_theirs": ratios(ours, theirs),
                "targets": targets,
            }
        )
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--label", default="atrium")
    parser.add_argument(
        "--pid", action="append", default=[], help="NAME=PID: a server process (tree) for RSS"
    )
    parser.add_argument("--dsn", default=None, help="ours: sample the runs `running` at once")
    parser.add_argument("--clients", default=",".join(map(str, LEVELS)))
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring window per level")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--long", type=int, default=0, metavar="N")
    parser.add_argument("--long-model-seconds", type=float, default=30.0)
    parser.add_argument("--combine", nargs=2, metavar=("OURS", "THEIRS"))
    args = parser.parse_args()
    if args.combine:
        combine(*args.combine)
        return
    if not args.url:
        parser.error("--url is required")
    sampler = Sampler([int(item.split("=", 1)[1]) for item in args.pid], args.dsn)
    sampler.start()
    try:
        result = await (long_runs(args, sampler) if args.long else levels(args, sampler))
    finally:
        await sampler.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
