"""Executing a claimed run inside a worker process.

Celery tasks are synchronous; graphs are async. Each worker process is a run host: one asyncio loop in
a background thread, holding what is expensive to build per run (the Postgres pool behind the
checkpointer and store, the Redis client, loaded graphs), runs up to ATRIUM_WORKER_MAX_INFLIGHT graphs
at once. A task thread only hands a run over: it waits for a free slot, for the claim, and returns
(its message is acknowledged) while the run goes on here, to its finish. From then on the run's lease,
fence and the watchdog's sweeper are what bring it back if this process dies.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import os
import threading
import typing
from collections.abc import Coroutine
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from langgraph.errors import GraphRecursionError
from langgraph.runtime import RunControl

from atrium.assistants.graphs import registry
from atrium.assistants.policy import PolicyViolationError, settings_violations
from atrium.core.logs import bind_log_ids
from atrium.core.run_limits import SECONDS_KEY, STEPS_KEY, RunLimits
from atrium.runtime import checkpoints
from atrium.runtime.auth_user import AuthUser
from atrium.runtime.budget_port import BUDGET_CONFIGURABLE, RuntimeBudget
from atrium.runtime.credentials_port import CREDENTIALS_CONFIGURABLE, RuntimeCredentials
from atrium.runtime.db import conninfo, server_closed
from atrium.runtime.engine import (
    FinalState,
    ProtocolEvent,
    RunEvent,
    RunRequest,
    checkpoint_ref,
    dumps,
    error_payload,
    stream_run_dual,
    stream_run_v1,
)
from atrium.runtime.engine.state import interrupt_dict
from atrium.runtime.engine.tracing import GraphTracingHandler, tracing_active
from atrium.runtime.fencing import FencedSaver, RunFencedError, caused_by
from atrium.runtime.mcp_port import MCP_CONFIGURABLE, RuntimeMcpServers
from atrium.runtime.outbound_port import OUTBOUND_CONFIGURABLE, RuntimeOutbound
from atrium.runtime.persistence import persistence
from atrium.runtime.redaction import run_kwargs_scrub
from atrium.runtime.services import lifecycle
from atrium.runtime.services.execution import (
    SECRETS_CONFIGURABLE,
    RunClaim,
    RunsAtCapacityError,
    call_counts_of,
    run_has_checkpoint,
    run_limits_for,
    temporary_thread_delete,
)
from atrium.runtime.services.lifecycle import FinishOutcome, RunResult
from atrium.runtime.streams import CONTROL_CHANNEL, EventBatches, RunPublisher, get_redis
from atrium.runtime.tenant_store import TenantStore
from atrium.runtime.usage_hook import usage_flush, usage_recorder

logger = logging.getLogger(__name__)
T = TypeVar("T")
SERVER_CONTEXT_FIELDS = ("user_id", "org_id", "assistant_id", "thread_id")
DEFAULT_MODEL = os.environ.get("ATRIUM_DEFAULT_MODEL", "")
# The stop action of an attempt whose lease was taken over by another worker: nothing to record.
FENCED = FinishOutcome.FENCED.value
# Stop actions of the run limits (`cancel_run`): the run ends with an error, keeping its checkpoints.
TIME_LIMIT = "time_limit"
STREAM_LIMIT = "stream_limit"
# The cancel action that erases the run (`lifecycle.CANCEL_ACTIONS`).
ROLLBACK = FinishOutcome.ROLLED_BACK.value


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (it comes with uvicorn[standard], as the web processes use it): every run
    of the process shares this loop, and its scheduling, socket waits and thread hand-offs cost about
    half as much CPU as asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio works the same
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _langsmith_inline(default: Any, ctx: Any, func: Any, /, *args: Any, **kwargs: Any) -> Any:
    return ctx.run(func, *args, **kwargs)


def _langsmith_without_thread_hops() -> None:
    """LangChain and deepagents wrap middleware and model calls in LangSmith's `traceable`, which sets
    up and closes each call's trace on an executor thread (two thread hops per call, ~8 % of the
    worker's CPU on the deep agent) even when tracing is off. With tracing off that bookkeeping is a
    few dictionary lookups: the worker runs it inline through LangSmith's documented runtime override.
    With LangSmith tracing configured, LangSmith's default is kept."""
    import langsmith
    from langsmith.utils import tracing_is_enabled

    if not tracing_is_enabled():
        langsmith.set_runtime_overrides(aio_to_thread=_langsmith_inline)


class WorkerLoop:
    def __init__(self, max_inflight: int) -> None:
        _langsmith_without_thread_hops()
        self.loop = _new_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="atrium-runtime-loop", daemon=True)
        self.thread.start()
        self.active: dict[str, asyncio.Task[Any]] = {}
        self.cancel_actions: dict[str, str] = {}
        self.controls: dict[str, RunControl] = {}
        self.draining = False
        # Runs hosted here: from a task thread taking a slot until the run's end is recorded.
        self.max_inflight = max(max_inflight, 1)
        self.inflight = 0
        self._slots = threading.Condition()
        self.hosted: set[asyncio.Task[Any]] = set()
        self.leases: dict[str, int] = {}  # run id → fence, of the runs executing here
        self.run(self._start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def take_slot(self, give_up: threading.Event) -> bool:
        """Wait (on a task thread) until this process may host one more run: the backpressure that
        keeps the worker from taking more messages than it can run. False if `give_up` is set first
        (a warm shutdown): the caller leaves the run to another worker."""
        with self._slots:
            while self.inflight >= self.max_inflight and not give_up.is_set():
                self._slots.wait(timeout=0.5)
            if give_up.is_set():
                return False
            self.inflight += 1
            return True

    def _free_slot(self) -> None:
        with self._slots:
            self.inflight -= 1
            self._slots.notify_all()

    def host(self, run_id: str, worker_id: str) -> Attempt:
        """Start a run on the loop in a slot taken with `take_slot`, and return once it is claimed and
        running (or found not to be this worker's to run now). The run goes on to its end here."""
        started: concurrent.futures.Future[Attempt] = concurrent.futures.Future()
        self.loop.call_soon_threadsafe(self._spawn, run_id, worker_id, started)
        return started.result()

    def _spawn(self, run_id: str, worker_id: str, started: concurrent.futures.Future[Attempt]) -> None:
        task = self.loop.create_task(self._hosted(run_id, worker_id, started))
        self.hosted.add(task)  # the loop keeps only weak references to its tasks
        task.add_done_callback(self.hosted.discard)

    async def _hosted(self, run_id: str, worker_id: str, started: concurrent.futures.Future[Attempt]) -> None:
        try:
            await attempt(run_id, worker_id, started)
        except Exception as error:
            if not started.done():
                started.set_exception(error)  # the claim failed: the task thread raises it
            else:
                logger.exception("run %s failed in its worker", run_id)
        finally:
            if not started.done():
                started.set_result(Attempt())
            self._free_slot()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no run is hosted here (each finished or handed back); False on timeout."""
        with self._slots:
            return self._slots.wait_for(lambda: self.inflight == 0, timeout)

    async def _start(self) -> None:
        await persistence()
        self._background = [
            self.loop.create_task(self._listen_for_controls()),
            self.loop.create_task(self._renew_leases()),
        ]

    async def _renew_leases(self) -> None:
        """Renew the leases of every run executing here every few seconds while their fences are
        ours: one UPDATE per interval for the whole process (not one per run), nothing per step. A
        run whose renewal is refused was reclaimed: it stops. A failed renewal (Postgres away) is
        retried at the next beat; if Postgres stays away past the lease, the sweeper reclaims the
        runs and the next renewal that gets through stops these copies."""
        interval = settings.ATRIUM_RUN_HEARTBEAT_SECONDS
        # A connection of its own: hundreds of runs writing checkpoints can keep every connection of
        # the pool busy for longer than a lease, and a renewal waiting behind them would let the
        # leases lapse (the sweeper would then take the runs from a healthy worker).
        conn: psycopg.AsyncConnection[Any] | None = None
        while True:
            await asyncio.sleep(interval)
            fences = dict(self.leases)
            if not fences:
                continue
            try:
                if conn is None or conn.closed or server_closed(conn):
                    conn = await psycopg.AsyncConnection.connect(
                        conninfo(), autocommit=True, connect_timeout=max(int(interval), 2)
                    )
                held = await asyncio.wait_for(lifecycle.renew(conn, fences=fences), timeout=interval * 2)
            except Exception:
                logger.warning("lease renewal of %s runs failed; retrying", len(fences), exc_info=True)
                if conn is not None:
                    await conn.close()
                conn = None
                continue
            for run_id, fence in fences.items():
                if self.leases.get(run_id) != fence:
                    continue  # ended meanwhile
                cancel = held.get(run_id)
                if cancel is None:
                    self.stop_fenced(run_id)
                elif cancel:  # cancelled, and its message on the control channel did not arrive
                    self.cancel_run(run_id, cancel)

    async def _listen_for_controls(self) -> None:
        while True:
            try:
                pubsub = get_redis().pubsub()
                await pubsub.subscribe(CONTROL_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    body = json.loads(message["data"])
                    self.cancel_run(body["run_id"], body["action"])
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: listen again once it is back
                logger.warning("control channel lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    def drain_all(self, reason: str = "shutdown") -> None:
        """Ask every running graph to stop at its next step boundary (warm shutdown). Runs that start
        after this are drained at their first step: the worker is going away."""
        self.draining = True
        for control in list(self.controls.values()):
            control.request_drain(reason)

    def drain_after(self, grace: float) -> None:
        """Let running graphs finish for `grace` seconds, then drain the rest (they are handed back
        to `pending` and resumed from their checkpoint by another worker)."""
        if grace <= 0:
            self.drain_all()
            return
        timer = threading.Timer(grace, self.drain_all)
        timer.daemon = True
        timer.start()

    def cancel_run(self, run_id: str, action: str) -> None:
        """Stop a run executing here: `interrupt` or `rollback` (a cancel), or FENCED."""
        task = self.active.get(run_id)
        if task is not None and not task.done() and run_id not in self.cancel_actions:
            self.cancel_actions[run_id] = action
            task.cancel()

    def stop_fenced(self, run_id: str) -> None:
        """The run's lease is no longer ours (the sweeper gave it to another worker): stop at once."""
        self.cancel_run(run_id, FENCED)


_loop: WorkerLoop | None = None
_loop_lock = threading.Lock()


def drain_on_shutdown(grace: float) -> None:
    """Warm shutdown of this process: hand running graphs back after `grace` seconds."""
    if _loop is not None:
        _loop.drain_after(grace)


def wait_drained() -> None:
    """Block until every run hosted here has finished or been handed back (after `drain_on_shutdown`):
    Celery no longer waits for them, as their tasks returned once they were claimed."""
    if _loop is None:
        return
    while not _loop.wait_idle(timeout=10):
        logger.warning("shutdown waits for %s runs to reach a step boundary", _loop.inflight)


def worker_loop() -> WorkerLoop:
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = WorkerLoop(settings.ATRIUM_WORKER_MAX_INFLIGHT)
        return _loop


def _context_for(graph: Any, claim: RunClaim) -> Any:
    """The run context: assistant context merged with request context, filtered to the graph's context schema,
    with the ids the server supplies (which a client cannot override)."""
    schema = getattr(graph, "context_schema", None)
    context = dict(claim.context)
    server_values = {
        "user_id": str(claim.user_id or ""),
        "org_id": claim.org_id,
        "assistant_id": claim.assistant_id,
        "thread_id": claim.thread_id,
    }
    if schema is None:
        return context or None
    if dataclasses.is_dataclass(schema):
        names = {f.name for f in dataclasses.fields(schema)}
    elif hasattr(schema, "model_fields"):
        names = set(schema.model_fields)
    else:
        names = set(typing.get_type_hints(schema))
    filtered = {k: v for k, v in context.items() if k in names}
    if "model" in names and not filtered.get("model") and DEFAULT_MODEL:
        filtered["model"] = DEFAULT_MODEL  # the deployment's default model, when the assistant names none
    filtered.update({k: v for k, v in server_values.items() if k in names})
    return filtered


def _config_for(claim: RunClaim, *, resume: bool = False) -> dict[str, Any]:
    config = dict(claim.config)
    atrium_user = {
        "identity": str(claim.user_id or ""),
        "display_name": claim.user_email,
        "permissions": [claim.user_role],
    }
    # A caller the deployment's `@auth.authenticate` identified keeps its identity and fields; the org
    # and role are always Atrium's.
    handler_fields = claim.kwargs.get("auth_user") or {}
    if not handler_fields.get("identity"):
        handler_fields = {}
    user = AuthUser({**atrium_user, **handler_fields, "org_id": claim.org_id, "role": claim.user_role})
    ids = {
        "thread_id": claim.thread_id,
        "run_id": claim.run_id,
        "graph_id": claim.graph_id,
        "assistant_id": claim.assistant_id,
        "user_id": str(claim.user_id or ""),
        "org_id": claim.org_id,
    }
    configurable = {
        **(config.get("configurable") or {}),
        **{k: v for k, v in (claim.kwargs.get("headers") or {}).items()},
        **ids,
        "langgraph_auth_user": user,
        "langgraph_auth_user_id": user.identity,
        "langgraph_auth_permissions": user.permissions,
    }
    checkpoint = claim.kwargs.get("checkpoint") or {}
    if checkpoint.get("checkpoint_id") and not resume:  # a resumed attempt continues from the head
        configurable["checkpoint_id"] = checkpoint["checkpoint_id"]
        if checkpoint.get("checkpoint_ns"):
            configurable["checkpoint_ns"] = checkpoint["checkpoint_ns"]
    metadata = {**(config.get("metadata") or {}), **{k: v for k, v in ids.items() if k != "org_id"}}
    return {**config, "configurable": configurable, "metadata": metadata}


def _jsonable(value: Any) -> Any:
    return json.loads(dumps(value)) if value is not None else None


def _is_v2(claim: RunClaim) -> bool:
    return bool(claim.kwargs.get("protocol") == "v2")


async def execute(claim: RunClaim) -> tuple[RunResult, list[ProtocolEvent]]:
    """Run the graph, publishing events as they come. Returns the outcome and the held-back terminal
    v2 events, which may only be published once the run's status is committed."""
    wl = worker_loop()
    stores = await persistence()
    # The run's user owns the private namespaces the graph writes; another user's are out of its reach.
    store = TenantStore(stores.store, claim.org_id, claim.user_id)
    resume = False
    if claim.attempt > 1:
        # A reclaimed run continues from the last checkpoint it committed (input None): steps it
        # completed, and the pending writes of a step it half did, are not executed again.
        async with stores.pool.connection() as conn:
            resume = await run_has_checkpoint(conn, run_id=claim.run_id, thread_id=claim.thread_id)
    config = _config_for(claim, resume=resume)
    if tracing_active():  # model and tool calls as spans under the task's span
        config["callbacks"] = [GraphTracingHandler()]
    # Usage and budgets (atrium.usage): every model call counted; a spent budget stops the run.
    recorder = usage_recorder(claim, stores.pool)
    config["callbacks"] = [*(config.get("callbacks") or []), recorder]
    control = RunControl()
    publisher = RunPublisher(
        claim.run_id,
        claim.thread_id,
        get_redis(),
        max_events=max(settings.ATRIUM_RUN_MAX_STREAM_EVENTS, 0),
        on_capped=lambda: wl.cancel_run(claim.run_id, STREAM_LIMIT),
    )
    terminal: list[ProtocolEvent] = []
    kwargs = claim.kwargs
    async with contextlib.AsyncExitStack() as stack:
        try:
            # The org's workspace secrets (read with the claim), for the graph factory (model keys) and
            # tools at call time. Private to the run: not in checkpoints (a `__` key), nor in stream
            # events (the engine drops `__` keys from the configs it streams).
            config["configurable"][SECRETS_CONFIGURABLE] = dict(claim.secrets)
            # The user's tokens at outside services, asked for by tools at call time (never in state).
            config["configurable"][CREDENTIALS_CONFIGURABLE] = RuntimeCredentials(
                user_id=claim.user_id, org_id=claim.org_id, role=claim.user_role, thread_id=claim.thread_id
            )
            # Every outside call a graph makes for the user (connected APIs, sandbox egress) goes
            # through the platform's guard with the deployment's settings.
            config["configurable"][OUTBOUND_CONFIGURABLE] = RuntimeOutbound.from_settings()
            # The org's MCP servers the assistant names, as they are now (no secrets: tokens above).
            config["configurable"][MCP_CONFIGURABLE] = RuntimeMcpServers(
                user_id=claim.user_id, org_id=claim.org_id, role=claim.user_role
            )
            # Whether a budget is spent, asked before model calls by graphs that pause for it (the deep
            # agent); the recorder above stays the backstop that stops any other graph's calls.
            config["configurable"][BUDGET_CONFIGURABLE] = RuntimeBudget(recorder)
            # Graph factories see the assistant's settings (its context) in their config, as graphs whose
            # structure depends on settings (the deep agent's middleware stack) need them to build.
            factory_config = {**config, "configurable": {**claim.context, **config["configurable"]}}
            # What admins approved may have changed since the assistant was saved, and a builder's run
            # may carry its own settings: both are held to the approvals as they are now.
            problems = settings_violations((claim.context, factory_config["configurable"]), claim.approvals)
            if problems:
                raise PolicyViolationError("; ".join(problems))
            graph = await registry().get_graph(
                claim.graph_id,
                factory_config,  # type: ignore[arg-type]
                # Checkpoint writes hold the attempt's fence: once another worker owns the run, this
                # attempt's writes are refused and it stops (fencing.py).
                checkpointer=FencedSaver(  # type: ignore[arg-type]
                    stores.checkpointer,
                    run_id=claim.run_id,
                    fence=claim.fence,
                    on_fenced=lambda: wl.stop_fenced(claim.run_id),
                ),
                store=store,
                context=claim.context,
                exit_stack=stack,
            )
        except Exception as exc:
            logger.exception("graph %s failed to load", claim.graph_id)
            # v2 observers see every run begin with a root `running`, even one that fails this early.
            started = [ProtocolEvent("lifecycle", (), {"event": "running", "graph_name": claim.graph_id})]
            await publisher.publish([RunEvent("error", error_payload(exc))], started if _is_v2(claim) else [])
            return RunResult(
                status=FinishOutcome.ERROR, result={"__error__": error_payload(exc)}, error=error_payload(exc)
            ), [ProtocolEvent("lifecycle", (), {"event": "failed", "error": str(exc)})]
        await run_kwargs_scrub(stores.pool, graph=graph, run_id=claim.run_id, kwargs=kwargs)
        limits = run_limits_for(claim, config=config, graph_steps=_bound_steps(graph))
        config.pop(SECONDS_KEY, None)  # Atrium's key, not LangGraph's
        if limits.steps is not None:
            config[STEPS_KEY] = limits.steps
        request = RunRequest(
            run_id=claim.run_id,
            thread_id=claim.thread_id,
            config=config,  # type: ignore[arg-type]
            input=None if resume else kwargs.get("input"),
            command=None if resume else kwargs.get("command"),
            context=_context_for(graph, claim),
            stream_mode=tuple(kwargs.get("stream_mode") or ("values",)),  # type: ignore[arg-type]
            stream_subgraphs=bool(kwargs.get("stream_subgraphs")),
            interrupt_before=kwargs.get("interrupt_before"),
            interrupt_after=kwargs.get("interrupt_after"),
            durability=kwargs.get("durability") or "sync",  # type: ignore[arg-type]
            attempt=claim.attempt,
            control=control,
        )
        final = FinalState()
        v2_run = _is_v2(claim)
        stream = stream_run_dual(graph, request) if v2_run else stream_run_v1(graph, request, final)
        wl.controls[claim.run_id] = control
        if wl.draining:
            control.request_drain("shutdown")
        cancelled_action = ""

        queue = EventBatches()
        last_values: dict[str, Any] = {}

        async def pump() -> None:
            if claim.cancel_action:
                return  # cancelled while its worker was gone: end it here without running a step
            async for event in stream:
                if wl.cancel_actions.get(claim.run_id) == FENCED:
                    return  # another worker owns the run: publish nothing more
                if isinstance(event, RunEvent):
                    if event.event == "metadata" and claim.attempt == 1:
                        continue  # published by the web process when the run was created
                    if (
                        event.event == "error"
                        and stream.outcome
                        and _postgres_lost(claim, stream.outcome.error)
                    ):
                        continue  # not the run's end: it is handed back and resumes
                    if event.event == "error" and stream.outcome:
                        # The step cap's error says which limit (LangGraph's suggests raising it).
                        event = RunEvent("error", _run_error(stream.outcome.error, limits))
                    queue.put(event)
                elif event.is_run_terminal:
                    terminal.append(event)
                else:
                    if not event.namespace and event.method in ("values", "checkpoints"):
                        last_values[event.method] = event.data
                    queue.put(event)

        # Publishing runs beside the graph: events that pile up during one Redis round trip (or the
        # few milliseconds a batch lingers, streams.PUBLISH_LINGER_SECONDS) go out together in the
        # next, so a run costs few round trips and never waits on Redis per event.
        publishing = asyncio.ensure_future(publisher.publish_batched(queue))
        task = asyncio.ensure_future(pump())
        wl.active[claim.run_id] = task
        wl.leases[claim.run_id] = claim.fence  # renewed by `WorkerLoop._renew_leases` from now on
        # The wall-clock cap stops the graph as a cancel does (at its next await), then ends it `error`.
        deadline = (
            asyncio.get_running_loop().call_later(limits.seconds, wl.cancel_run, claim.run_id, TIME_LIMIT)
            if limits.seconds
            else None
        )
        try:
            await task
        except asyncio.CancelledError:
            cancelled_action = wl.cancel_actions.pop(claim.run_id, "")
            if not cancelled_action:
                wl.leases.pop(claim.run_id, None)
                publishing.cancel()
                raise
        except Exception:
            # Not the graph's error (the engine records those): stop renewing, so the lease lapses and
            # the sweeper hands the run to another attempt instead of it staying `running` here.
            wl.leases.pop(claim.run_id, None)
            publishing.cancel()
            raise
        finally:
            if deadline is not None:
                deadline.cancel()
            wl.active.pop(claim.run_id, None)
            wl.controls.pop(claim.run_id, None)
            queue.close()
        try:
            await publishing  # may wait for Redis to come back: the lease is renewed meanwhile
        finally:
            wl.leases.pop(claim.run_id, None)
        # A stop that landed as the graph returned (the pump saw it first) counts too, and so does a
        # stream cap reached by the last events (dropped: the run must not end as if complete).
        cancelled_action = cancelled_action or wl.cancel_actions.pop(claim.run_id, "") or claim.cancel_action
        if not cancelled_action and publisher.capped:
            cancelled_action = STREAM_LIMIT
        if (
            cancelled_action != FENCED
            and stream.outcome is not None
            and caused_by(stream.outcome.error, RunFencedError)
        ):
            cancelled_action = FENCED
        if cancelled_action == FENCED:
            logger.warning(
                "run %s was reclaimed by another worker; stopped (fence %s)",
                claim.run_id,
                claim.fence,
            )
            return RunResult(status=FinishOutcome.FENCED), []

        outcome = stream.outcome
        # The engine's end of the graph (its status values are those of `FinishOutcome`).
        ended = FinishOutcome(outcome.status) if outcome is not None else None
        if outcome is not None and _postgres_lost(claim, outcome.error):
            # Postgres went away mid-step (a restart): not the graph's fault. Hand the run back; it
            # resumes from its last checkpoint once Postgres answers (no state read: it may be down).
            logger.warning("run %s lost Postgres mid-step; handing it back", claim.run_id)
            await stores.pool.check()
            return RunResult(status=FinishOutcome.DRAINED), []
        if outcome is not None and ended == FinishOutcome.ERROR and isinstance(outcome.error, BaseException):
            # Clients see only a public message; the operator's log gets the traceback.
            logger.warning("run %s failed in graph %s", claim.run_id, claim.graph_id, exc_info=outcome.error)
        if not v2_run and final.seen:
            last_values["values"] = final.values
        # The run-scoped counters are not checkpointed: the last root values are where they are seen.
        counts = call_counts_of(last_values.get("values"))
        if not cancelled_action and ended == FinishOutcome.SUCCESS and "values" in last_values:
            # The common path: the last root values and checkpoint are the final state; no state read.
            values = _jsonable(last_values["values"])
            checkpoint = last_values.get("checkpoints") or {}
            ref = {"thread_id": claim.thread_id, "checkpoint_ns": "", "checkpoint_id": checkpoint.get("id")}
            finished = RunResult(
                status=FinishOutcome.SUCCESS,
                result=values,
                values=values,
                interrupts={},
                next=[],
                checkpoint_end=ref if checkpoint.get("id") else None,
                call_counts=counts,
            )
            return finished, terminal

        state_config = {"configurable": {"thread_id": claim.thread_id}}
        if cancelled_action == ROLLBACK:
            async with stores.pool.connection() as conn:
                await checkpoints.adelete_for_run(conn, thread_id=claim.thread_id, run_id=claim.run_id)
        snapshot = await graph.aget_state(state_config)  # type: ignore[arg-type]
        values = _jsonable(snapshot.values)
        interrupts = {
            task.id: [interrupt_dict(i) for i in task.interrupts]
            for task in snapshot.tasks
            if task.interrupts
        }
        next_nodes = list(snapshot.next)
        base = {
            "values": values,
            "interrupts": _jsonable(interrupts),
            "next": next_nodes,
            "checkpoint_end": _jsonable(checkpoint_ref(snapshot.config)),
            "call_counts": counts,
        }
        if cancelled_action in (TIME_LIMIT, STREAM_LIMIT):
            payload = _limit_error(cancelled_action, limits)
            # Past the stream's cap: this event and the end marker are the only appends allowed.
            await publisher.publish([RunEvent("error", payload)], [], uncapped=True)
            terminal = [ProtocolEvent("lifecycle", (), {"event": "failed", "error": payload["message"]})]
            return RunResult(
                status=FinishOutcome.ERROR, result={"__error__": payload}, error=payload, **base
            ), terminal
        if cancelled_action:
            terminal = [ProtocolEvent("lifecycle", (), {"event": "interrupted"})]
            status = FinishOutcome.ROLLED_BACK if cancelled_action == ROLLBACK else FinishOutcome.INTERRUPTED
            return RunResult(status=status, result=values, **base), terminal
        if ended == FinishOutcome.DRAINED:
            return RunResult(status=FinishOutcome.DRAINED, **base), []
        if outcome is not None and ended == FinishOutcome.ERROR and outcome.error is not None:
            payload = _run_error(outcome.error, limits)
            return RunResult(
                status=FinishOutcome.ERROR, result={"__error__": payload}, error=payload, **base
            ), terminal
        result = values
        all_interrupts = [i for items in (base["interrupts"] or {}).values() for i in items]
        if all_interrupts and isinstance(values, dict):
            result = {**values, "__interrupt__": all_interrupts}
        return RunResult(status=FinishOutcome.SUCCESS, result=result, **base), terminal


def _bound_steps(graph: Any) -> int | None:
    """The `recursion_limit` a graph binds itself (`with_config`), if any: deep agents set one."""
    value = (getattr(graph, "config", None) or {}).get(STEPS_KEY)
    return value if isinstance(value, int) and value > 0 else None


def _run_error(error: BaseException | None, limits: RunLimits) -> dict[str, str]:
    """A failed run's error; the step cap's says so (LangGraph's would suggest raising the limit,
    which a run cannot do past its caps)."""
    if isinstance(error, GraphRecursionError):
        return {
            "error": type(error).__name__,
            "message": f"The run reached its step limit of {limits.steps} (recursion_limit) and was "
            "stopped. Steps it completed are kept.",
        }
    return error_payload(error) if error is not None else {"error": "Error", "message": ""}


def _limit_error(action: str, limits: RunLimits) -> dict[str, str]:
    """The error a run stopped by a limit ends with: on the run, its `error` event and its thread."""
    if action == TIME_LIMIT:
        return {
            "error": "RunTimeLimitExceeded",
            "message": f"The run exceeded its time limit of {limits.seconds} seconds and was stopped. "
            "Steps it completed are kept.",
        }
    return {
        "error": "RunStreamLimitExceeded",
        "message": f"The run emitted more than {settings.ATRIUM_RUN_MAX_STREAM_EVENTS} stream events "
        "and was stopped; events after the limit were not recorded. Steps it completed are kept.",
    }


def _postgres_lost(claim: RunClaim, error: BaseException | None) -> bool:
    """An attempt that failed because Postgres was unreachable (within the attempt bound)."""
    return claim.attempt < settings.ATRIUM_RUN_MAX_ATTEMPTS and caused_by(error, psycopg.OperationalError)


@dataclasses.dataclass
class Attempt:
    """What `attempt` did with a run's message. `claim` None: not this worker's to run now; `status`:
    what `lifecycle.finish` recorded (None until the attempt ended)."""

    claim: RunClaim | None = None
    at_capacity: bool = False
    outcome: RunResult | None = None
    terminal: list[ProtocolEvent] = dataclasses.field(default_factory=list)
    status: FinishOutcome | None = None


async def attempt(
    run_id: str, worker_id: str, started: concurrent.futures.Future[Attempt] | None = None
) -> Attempt:
    """Claim, execute and finish a run, and publish its end, on the worker's loop; `started` is told
    the claim (the task thread waits only for that). The claim and the common finish go through the
    loop's pool; the rest of the end takes a Django connection on a helper thread."""
    stores = await persistence()
    try:
        async with stores.pool.connection() as conn:
            claim = await lifecycle.claim(conn, run_id=run_id, worker_id=worker_id)
    except RunsAtCapacityError:
        claim, done = None, Attempt(at_capacity=True)
    else:
        done = Attempt(claim=claim)
    if started is not None:
        started.set_result(done)
    if claim is None:
        return done
    bind_log_ids(thread_id=claim.thread_id, org_id=claim.org_id)  # this coroutine's context only
    try:
        outcome, terminal = await execute(claim)
    finally:
        await usage_flush(claim)  # the attempt's model usage, in one insert
    done = Attempt(claim=claim, outcome=outcome, terminal=terminal)
    if outcome.status == FinishOutcome.FENCED:
        done.status = FinishOutcome.FENCED  # another worker owns the run now
        return done
    done.status = await lifecycle.finish(claim, outcome)
    await publish_outcome(claim, done.status, outcome, terminal)
    if done.status in lifecycle.STORED_OUTCOMES:
        logger.info("run %s ended %s (attempt %s)", run_id, done.status, claim.attempt)
    if claim.temporary_thread and claim.kwargs.get("on_completion", "delete") == "delete":
        await lifecycle.off_loop(temporary_thread_delete, thread_id=claim.thread_id)
    return done


async def publish_outcome(
    claim: RunClaim, status: FinishOutcome, outcome: RunResult, terminal: list[ProtocolEvent]
) -> None:
    """The run's end for its streams and waiters, once `status` is committed (nothing when fenced
    off or handed back; a rolled-back run's streams see it interrupted)."""
    if status in (FinishOutcome.FENCED, FinishOutcome.DRAINED):
        return
    if status == FinishOutcome.ROLLED_BACK:
        await publish_end(claim, terminal, FinishOutcome.INTERRUPTED.value)
    else:
        await publish_end(claim, terminal, status.value, result=outcome.result)


async def publish_end(
    claim: RunClaim, terminal: list[ProtocolEvent], status: str, *, result: Any = None
) -> None:
    # The run's first v2 event was published by `execute`: the terminal one must not move the
    # thread's replay start (where a new stream begins) to the end of the run.
    publisher = RunPublisher(claim.run_id, claim.thread_id, get_redis(), _v2_started=True)
    await publisher.finish(status, result=result, terminal=terminal)
