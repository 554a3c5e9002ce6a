"""Horizontal scale on one machine: several web and worker processes on one Postgres and Redis.

    python scale.py --urls http://127.0.0.1:A/agent http://127.0.0.1:B/agent --api-key KEY \
        --backend-dir backend [--workers 1 2 4] [--quick]

Prints one JSON line with:
  - `runs_per_s`: completed `echo` runs/s (create-thread + runs.wait loops, clients spread over every
    web process) with 1, 2 and 4 Celery worker processes (started and stopped here, each a thread pool
    of --concurrency);
  - `stream_other_process` / `stream_same_process`: runs created on the first web process and
    streamed (joined from the first event) from the second, against the same from the first: time from
    the create request to the first and to the last event, and whether the other process served
    exactly the events the creating one did;
  - `fanout`: N clients, spread over the web processes, replaying one finished run's stream at once:
    time until every one has the whole stream, and whether they all got the same events;
  - `postgres_per_run` (with --database-url): what one run costs Postgres, from sequential runs on new
    threads: WAL bytes, transactions, rows written, and checkpoint rows.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import CONTEXT, MESSAGE, summary, throughput
from celery import Celery
from langgraph_sdk import get_client

GRAPH = "echo"


class Workers:
    """N `celery worker` processes consuming both queues, each in its own process group."""

    def __init__(self, backend_dir: Path, concurrency: int, log_dir: Path, broker_url: str) -> None:
        self.backend_dir, self.concurrency, self.log_dir = backend_dir, concurrency, log_dir
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.control = Celery(broker=broker_url).control

    def start(self, count: int, tag: str) -> None:
        for index in range(count):
            log = self.log_dir / f"worker-{tag}-{index}.log"
            command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "INFO"]
            command += ["-Q", "runs,default,webhooks", "--pool", "threads"]
            command += ["--concurrency", str(self.concurrency)]
            command += ["-n", f"scale{tag}-{index}-{os.getpid()}@%h"]
            with log.open("wb") as out:
                proc = subprocess.Popen(  # noqa: S603 - our own command line
                    # Killed by the kernel if this process dies (started from the main thread).
                    ["setpriv", "--pdeathsig", "KILL", "--", *command],  # noqa: S607 - util-linux
                    cwd=self.backend_dir,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.procs.append((proc, log))
        self.wait_ready([f"scale{tag}-{index}-{os.getpid()}@" for index in range(count)])

    def wait_ready(self, prefixes: list[str]) -> None:
        """Until every new worker answers a broadcast ping: it consumes then. (Its " ready." log line is
        no signal: Celery logs it at INFO, and the bench runs at ATRIUM_LOG_LEVEL=WARNING.)"""
        deadline = time.monotonic() + 120
        while True:
            if any(proc.poll() is not None for proc, _ in self.procs):
                raise SystemExit(f"a worker exited at start; see {self.log_dir}")
            answered = {name for reply in self.control.ping(timeout=0.5) or [] for name in reply}
            if all(any(name.startswith(prefix) for name in answered) for prefix in prefixes):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"workers did not answer a ping within 120 s; see {self.log_dir}")

    def stop(self) -> None:
        for proc, _ in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []


async def stream_once(creator: Any, reader: Any) -> tuple[float, float, list[Any]]:
    """Create a run through `creator`, join its stream from the start through `reader`."""
    thread = await creator.threads.create()
    started = time.perf_counter()
    modes = ["values", "updates"]
    run = await creator.runs.create(thread["thread_id"], GRAPH, input=MESSAGE, stream_mode=modes)
    first, events = None, []
    async for part in reader.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1"):
        if first is None:
            first = (time.perf_counter() - started) * 1000
        events.append([part.event, part.data])
    total = (time.perf_counter() - started) * 1000
    # The creating process replays the same run: the other process must have served the same events.
    replay = [
        [part.event, part.data]
        async for part in creator.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1")
    ]
    return first or total, total, [events == replay, len(events)]


async def streams(creator: Any, reader: Any, n: int) -> dict[str, Any]:
    first, total, same, counts = [], [], 0, []
    for _ in range(n):
        f, t, (equal, count) = await stream_once(creator, reader)
        first.append(f)
        total.append(t)
        same += bool(equal and count > 2)  # at least metadata, the values and the end of the run
        counts.append(count)
    return {
        "first_event_ms": summary(first),
        "complete_ms": summary(total),
        "identical_to_creator": f"{same}/{n}",
        "events_per_run": sorted(set(counts)),
    }


async def fanout(urls: list[str], api_key: str, readers: int) -> dict[str, Any]:
    creator = get_client(url=urls[0], api_key=api_key, timeout=300)
    thread = await creator.threads.create()
    run = await creator.runs.create(
        thread["thread_id"], GRAPH, input=MESSAGE, stream_mode=["values", "updates"]
    )
    await creator.runs.join(thread["thread_id"], run["run_id"])
    # One HTTP client per 50 readers (httpx pools at most 100 connections per client).
    clients = [
        get_client(url=urls[i % len(urls)], api_key=api_key, timeout=300) for i in range(-(-readers // 50))
    ]

    async def read(client: Any) -> tuple[float, list[Any]]:
        parts = client.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1")
        events = [[part.event, part.data] async for part in parts]
        return (time.perf_counter() - started) * 1000, events

    started = time.perf_counter()
    results = await asyncio.gather(*(read(clients[i % len(clients)]) for i in range(readers)))
    done = [ms for ms, _ in results]
    return {
        "readers": readers,
        "all_done_ms": round(max(done), 1),
        "per_reader_ms": summary(done),
        "identical": all(events == results[0][1] for _, events in results) and len(results[0][1]) > 2,
    }


async def postgres_per_run(client: Any, database_url: str, graph: str, n: int) -> dict[str, Any]:
    import psycopg

    stats = (
        "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted, pg_current_wal_lsn()::text"
        " FROM pg_stat_database WHERE datname = current_database()"
    )
    context = CONTEXT.get(graph)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await asyncio.sleep(11)  # backends flush their statistics when idle, at most every 10 s
        before = await (await conn.execute(stats)).fetchone()
        threads = []
        for _ in range(n):
            thread = await client.threads.create()
            threads.append(thread["thread_id"])
            await client.runs.wait(thread["thread_id"], graph, input=MESSAGE, context=context)
        await asyncio.sleep(11)
        after = await (await conn.execute(stats)).fetchone()
        wal = await (await conn.execute("SELECT pg_wal_lsn_diff(%s, %s)", (after[2], before[2]))).fetchone()
        counts = {}
        for table in ("checkpoints", "checkpoint_writes", "checkpoint_blobs"):
            query = f"SELECT count(*) FROM {table} WHERE thread_id = ANY(%s)"  # noqa: S608 - fixed names
            counts[table] = (await (await conn.execute(query, ([*threads],))).fetchone())[0] / n
    return {
        "runs": n,
        "wal_kib": round(float(wal[0]) / n / 1024, 1),
        "transactions": round((after[0] - before[0]) / n, 1),
        "rows_written": round((after[1] - before[1]) / n, 1),
        **{f"{table}_rows": round(value, 1) for table, value in counts.items()},
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", nargs="+", required=True, help="the /agent URL of each web process")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--backend-dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker process")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--log-dir", type=Path, required=True, help="where the workers' logs go")
    parser.add_argument("--database-url", default=None, help="to measure what a run costs Postgres")
    parser.add_argument("--broker-url", default=os.environ.get("REDIS_URL"), help="the workers' (REDIS_URL)")
    parser.add_argument("--fanout", type=int, nargs="+", help="concurrent readers (10 100 400)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    # --quick checks that the harness works (make test runs it), in seconds: its figures are rough.
    seconds, samples, warm_up = (1.5, 3, 1.0) if args.quick else (15.0, 30, 5.0)
    fanouts = args.fanout or ([10, 50] if args.quick else [10, 100, 400])
    urls = itertools.cycle(args.urls)

    def make_client() -> Any:  # each load-generating client sticks to one web process, round-robin
        return get_client(url=next(urls), api_key=args.api_key, timeout=300)

    result: dict[str, Any] = {
        "graph": GRAPH,
        "web_processes": len(args.urls),
        "clients": args.clients,
        "threads_per_worker": args.concurrency,
        "seconds": seconds,
        "cpus": os.cpu_count(),
        "runs_per_s": {},
    }
    workers = Workers(args.backend_dir.resolve(), args.concurrency, args.log_dir, args.broker_url)
    try:
        for count in args.workers:
            workers.start(count, str(count))
            await throughput(make_client, GRAPH, args.clients, warm_up)  # warm-up: imports, pools, caches
            result["runs_per_s"][str(count)] = await throughput(make_client, GRAPH, args.clients, seconds)
            print(f"{count} worker processes: {result['runs_per_s'][str(count)]} runs/s", file=sys.stderr)
            if count == args.workers[0]:
                a = get_client(url=args.urls[0], api_key=args.api_key, timeout=300)
                b = get_client(url=args.urls[-1], api_key=args.api_key, timeout=300)
                await streams(a, b, 3)  # warm-up
                result["stream_other_process"] = await streams(a, b, samples)
                result["stream_same_process"] = await streams(a, a, samples)
                result["fanout"] = [await fanout(args.urls, args.api_key, n) for n in fanouts]
                if args.database_url:
                    # Each graph waits twice for Postgres' statistics (11 s): --quick measures one.
                    graphs = ("echo",) if args.quick else ("echo", "agent")
                    result["postgres_per_run"] = {
                        graph: await postgres_per_run(a, args.database_url, graph, 5 if args.quick else 20)
                        for graph in graphs
                    }
            workers.stop()
    finally:
        workers.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
