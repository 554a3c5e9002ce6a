"""Run an assistant to its end for the protocol adapters (MCP, A2A): the same `run_create` and the
same end-of-run signal as `runs.wait`, so a tool call or an A2A message is an ordinary run — queued,
executed by a worker, checkpointed, visible in the API and the admin."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from atrium.runtime.api.common import call
from atrium.runtime.api.streaming import HEARTBEAT_MS
from atrium.runtime.models import Run
from atrium.runtime.selectors.runs import run_get_any
from atrium.runtime.services import lifecycle
from atrium.runtime.streams import wait_run_end


@dataclass(frozen=True)
class RunOutcome:
    run: Run
    status: str
    """`success`, `error`, `interrupted`, ... as the worker recorded it."""
    values: Any
    """The final state values; `{"__error__": {...}}` for a failed run (the `/wait` body)."""

    @property
    def error(self) -> str | None:
        failure = self.values.get("__error__") if isinstance(self.values, dict) else None
        if failure is None and self.status == "success":
            return None
        if isinstance(failure, dict):
            return f"{failure.get('error', 'Error')}: {failure.get('message', '')}"
        return f"The run ended as {self.status}."


async def run_start(
    *, assistant_id: str, input: Any, thread_id: uuid.UUID | None, metadata: dict[str, Any]
) -> Run:
    """A run of `assistant_id` on `thread_id` (created when missing), or stateless when None."""
    payload = lifecycle.RunCreate(
        assistant_id=assistant_id,
        input=input,
        metadata=metadata,
        if_not_exists="create",
        on_completion="delete",
    )
    return await call(lifecycle.create)(thread_id=thread_id, payload=payload, stateless=thread_id is None)


async def run_outcome_stream(run: Run) -> AsyncIterator[RunOutcome | None]:
    """None every heartbeat interval while the run goes on (for keep-alive bytes), then its outcome.
    Blocks on the run's `done` stream, without polling."""
    while (end := await wait_run_end(str(run.id), block_ms=HEARTBEAT_MS)) is None:
        yield None
    if end.result is not None:
        values = orjson.loads(end.result)
    else:
        stored = await call(run_get_any)(run_id=run.id)
        values = stored.result if stored is not None else None
    yield RunOutcome(run=run, status=end.status, values=values)


async def run_finish_wait(run: Run) -> RunOutcome:
    """The run's outcome, once the worker marked it done."""
    async for outcome in run_outcome_stream(run):
        if outcome is not None:
            return outcome
    raise AssertionError("the outcome stream ends with the outcome")


def last_message_text(values: Any) -> str | None:
    """The text of the last message in `values["messages"]` (as the run's JSON carries it), or None."""
    messages = values.get("messages") if isinstance(values, dict) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    content = messages[-1].get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return None
