"""Recording model usage and holding runs to their budgets, from inside the graph run.

`UsageRecorder` is a LangChain callback handler the runtime adds to every run's callbacks, so it sees
every chat model call of any graph (subagents and tools' own models included: callbacks follow the
run's config). It adds up each call's `usage_metadata` per model, checks the budgets before each call
(raising `BudgetExceeded` when one is spent), and `flush` writes the totals in one insert when the
attempt ends. Graphs know nothing of it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import LLMResult

from atrium.core.ids import uuid7
from atrium.core.metrics import budget_exceeded, model_cost, model_tokens
from atrium.usage.budgets import (
    BUDGET_SPEND_SQL,
    BudgetExceeded,
    BudgetState,
    budget_params,
    first_exceeded,
    spent_shown,
)
from atrium.usage.prices import price_for

logger = logging.getLogger(__name__)
# How long a run trusts the spend it read (other runs' spend); its own is always counted as it grows.
# The first model call of every run reads afresh.
SPEND_CACHE_SECONDS = 5.0

INSERT_SQL = """
INSERT INTO usage_modelusage (id, org_id, run_id, thread_id, assistant_id, user_id, model, calls,
    input_tokens, output_tokens, cached_input_tokens, cost, created_at)
VALUES {rows}
"""
ROW_SQL = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"


@dataclass(frozen=True)
class SpentBudget:
    """A spent budget and the message the run's user may be shown about it."""

    state: BudgetState
    message: str


@dataclass
class ModelTotals:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost: Decimal | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _usage_of(response: LLMResult) -> tuple[int, int, int, str | None]:
    """Input, output and cached input tokens of one model call, and the model the provider names."""
    inputs = outputs = cached = 0
    reported: str | None = None
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            if not isinstance(message, AIMessage):
                continue
            reported = reported or (message.response_metadata or {}).get("model_name")
            usage = message.usage_metadata
            if not usage:
                continue
            inputs += int(usage.get("input_tokens") or 0)
            outputs += int(usage.get("output_tokens") or 0)
            cached += int((usage.get("input_token_details") or {}).get("cache_read") or 0)
    llm_output = response.llm_output or {}
    if not (inputs or outputs):  # a provider that reports only the legacy `token_usage`
        legacy = llm_output.get("token_usage") or llm_output.get("usage") or {}
        if isinstance(legacy, dict):
            inputs = int(legacy.get("prompt_tokens") or legacy.get("input_tokens") or 0)
            outputs = int(legacy.get("completion_tokens") or legacy.get("output_tokens") or 0)
    return inputs, outputs, cached, reported or llm_output.get("model_name")


class UsageRecorder(BaseCallbackHandler):
    """One attempt of one run: its user, assistant, thread and org, and what its model calls spent.

    Its callbacks are sync on purpose: LangChain runs them on a thread (an async model call) or on the
    calling node's thread (a sync one), where the budget check may wait for the worker's loop to read
    Postgres, and where an exception reaches the model call in both cases (an async handler's, on a
    sync call, is only logged)."""

    # A spent budget must stop the model call, not be logged and ignored as handler errors are.
    raise_error = True

    def __init__(
        self,
        *,
        run_id: str,
        thread_id: str | None,
        org_id: str,
        user_id: int | None,
        assistant_id: str | None,
        pool: Any,
        role: str | None = None,
    ) -> None:
        self.run_id = uuid.UUID(str(run_id))
        self.thread_id = _uuid_or_none(thread_id)
        self.org_id = uuid.UUID(str(org_id))
        self.user_id = user_id
        self.assistant_id = _uuid_or_none(assistant_id)
        self.role = role  # the run's user's role in the org: whether the org's spend is theirs to see
        self.pool = pool
        # The pool belongs to the worker's loop (the recorder is made on it): queries are sent there.
        self.loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._lock = threading.Lock()  # parallel model calls (subagents) end on different threads
        self.totals: dict[str, ModelTotals] = {}
        self._requested: dict[uuid.UUID, str | None] = {}
        self._states: list[BudgetState] | None = None
        self._read_at = 0.0
        self._stopped = False

    def __repr__(self) -> str:
        return f"UsageRecorder(run={self.run_id})"

    # What the run has spent and not yet written.
    def pending(self) -> tuple[int, Decimal]:
        with self._lock:
            totals = list(self.totals.values())
        tokens = sum(t.tokens for t in totals)
        cost = sum((t.cost for t in totals if t.cost is not None), Decimal(0))
        return tokens, cost

    def _stale(self) -> bool:
        return self._states is None or time.monotonic() - self._read_at > SPEND_CACHE_SECONDS

    def _budget_states(self) -> list[BudgetState]:
        if self._stale():
            if threading.get_ident() == self._loop_thread:
                # A sync model call made on the loop's own thread (a graph that blocks its loop): it
                # cannot wait for the loop, so it is held to the spend read last, if any.
                return self._states or []
            query = asyncio.run_coroutine_threadsafe(self._read_budget_states(), self.loop)
            self._states = query.result()
            self._read_at = time.monotonic()
        return self._states or []

    async def budget_states(self) -> list[BudgetState]:
        """The run's budgets with their spend, as `check_budgets` sees them (same query, same cache),
        for a caller on the worker's loop (the budget port)."""
        if self._stale():
            self._states = await self._read_budget_states()
            self._read_at = time.monotonic()
        return self._states or []

    async def _read_budget_states(self) -> list[BudgetState]:
        params = budget_params(org_id=self.org_id, user_id=self.user_id, now=timezone.now())
        async with self.pool.connection() as conn:
            cursor = await conn.execute(BUDGET_SPEND_SQL, params)
            return [BudgetState.from_row(row) for row in await cursor.fetchall()]

    def spent_budget(self, states: list[BudgetState]) -> SpentBudget | None:
        """The first of `states` spent, this run's unwritten calls included, and its public message
        (the org's spend only for those who may see it, as `/usage/me` shows it)."""
        if not states:
            return None
        tokens, cost = self.pending()
        spent = first_exceeded(states, extra_tokens=tokens, extra_cost=cost)
        if spent is None:
            return None
        shown = spent.spent(extra_tokens=tokens, extra_cost=cost) if spent_shown(spent, self.role) else None
        return SpentBudget(spent, spent.message(shown))

    def count_stop(self, spent: BudgetState) -> None:
        if not self._stopped:  # a retrying model middleware (or a resumed interrupt) asks again
            self._stopped = True
            budget_exceeded.inc(
                org=str(self.org_id),
                scope="user" if spent.user_id is not None else "org",
                at="model_call",
            )

    def check_budgets(self) -> None:
        """Raise BudgetExceeded when a budget of the run's org or user is spent, this run's calls
        so far included. Called off the worker's loop (see the class)."""
        spent = self.spent_budget(self._budget_states())
        if spent is None:
            return
        self.count_stop(spent.state)
        raise BudgetExceeded(spent.message)

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        self._requested[run_id] = _requested_model(kwargs)
        self.check_budgets()

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        self._requested[run_id] = _requested_model(kwargs)
        self.check_budgets()

    def on_llm_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        self._requested.pop(run_id, None)

    def on_llm_end(self, response: LLMResult, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        try:
            self.add(response, requested=self._requested.pop(run_id, None))
        except Exception:  # a malformed report must not fail the run (raise_error is for budgets)
            logger.warning("model usage of run %s not counted", self.run_id, exc_info=True)

    def add(self, response: LLMResult, *, requested: str | None) -> None:
        inputs, outputs, cached, reported = _usage_of(response)
        name = (requested or reported or "unknown")[:200]
        price = price_for(requested, reported)
        cost = (
            price.cost(input_tokens=inputs, output_tokens=outputs, cached_input_tokens=cached)
            if price
            else None
        )
        with self._lock:
            totals = self.totals.setdefault(name, ModelTotals())
            totals.calls += 1
            totals.input_tokens += inputs
            totals.output_tokens += outputs
            totals.cached_input_tokens += cached
            if cost is not None:
                totals.cost = (totals.cost or Decimal(0)) + cost

    async def flush(self) -> None:
        """Write what the attempt spent (one row per model, in one insert) and count it in the
        metrics. Called once, when the attempt ends however it ends."""
        with self._lock:
            totals, self.totals = self.totals, {}
        if not totals:
            return
        params: list[Any] = []
        for model, t in totals.items():
            params += [uuid7(), self.org_id, self.run_id, self.thread_id, self.assistant_id, self.user_id]
            params += [model, t.calls, t.input_tokens, t.output_tokens, t.cached_input_tokens, t.cost]
        sql = INSERT_SQL.format(rows=", ".join([ROW_SQL] * len(totals)))
        try:
            async with self.pool.connection() as conn:
                await conn.execute(sql, params)
        except Exception:
            # Postgres is away as the attempt ends: the figures go to the log rather than nowhere.
            logger.error(
                "model usage of run %s not recorded: %s",
                self.run_id,
                {
                    m: (t.calls, t.input_tokens, t.output_tokens, t.cached_input_tokens)
                    for m, t in totals.items()
                },
                exc_info=True,
            )
        await asyncio.to_thread(self._count_metrics, totals)

    def _count_metrics(self, totals: dict[str, ModelTotals]) -> None:
        # Labels are bounded: orgs and assistants, never users or runs.
        labels = {"org": str(self.org_id), "assistant": str(self.assistant_id or "")}
        for t in totals.values():
            for kind, amount in (("input", t.input_tokens), ("output", t.output_tokens)):
                if amount:
                    model_tokens.inc(amount, kind=kind, **labels)
            if t.cached_input_tokens:
                model_tokens.inc(t.cached_input_tokens, kind="cached_input", **labels)
            if t.cost:
                model_cost.inc(float(t.cost), **labels)


def _requested_model(kwargs: dict[str, Any]) -> str | None:
    """The model the graph asked for, as LangChain reports it to tracers."""
    metadata = kwargs.get("metadata") or {}
    params = kwargs.get("invocation_params") or {}
    for value in (metadata.get("ls_model_name"), params.get("model"), params.get("model_name")):
        if isinstance(value, str) and value:
            return value
    return None
