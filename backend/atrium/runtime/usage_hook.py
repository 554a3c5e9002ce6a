"""Where the executor hands runs to usage recording and budgets (atrium.usage): a recorder in each
attempt's callbacks, flushed when the attempt ends, however it ends (success, error, interrupt,
hand-back, fenced off: the model calls it made were paid for either way)."""

from __future__ import annotations

from typing import Any

from atrium.runtime.services.execution import RunClaim
from atrium.usage.recorder import UsageRecorder

# The recorder of each attempt running in this process, by run and fence: a fenced-off attempt still
# stopping here and the run's next attempt, claimed by this process meanwhile, keep their own.
_recorders: dict[tuple[str, int], UsageRecorder] = {}


def usage_recorder(claim: RunClaim, pool: Any) -> UsageRecorder:
    recorder = UsageRecorder(
        run_id=claim.run_id,
        thread_id=claim.thread_id,
        org_id=claim.org_id,
        user_id=claim.user_id,
        assistant_id=claim.assistant_id,
        pool=pool,
        role=claim.user_role,
    )
    _recorders[(claim.run_id, claim.fence)] = recorder
    return recorder


async def usage_flush(claim: RunClaim) -> None:
    recorder = _recorders.pop((claim.run_id, claim.fence), None)
    if recorder is not None:
        await recorder.flush()
