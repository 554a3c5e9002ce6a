"""An attempt's end is a `FinishOutcome`: the stored ones are exactly the run statuses a finish writes,
the others never collide with a status, and the run path names outcomes through the enum, not bare
strings (a typo there would silently never match)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atrium.runtime.models import RunStatus
from atrium.runtime.services.lifecycle import STORED_OUTCOMES, FinishOutcome, RunResult

RUNTIME = Path(__file__).resolve().parents[2]
RUN_PATH = ["executor.py", "tasks.py", "watchdog.py", "services/lifecycle.py", "services/execution.py"]
# An outcome spelled as a string literal: compared with, assigned to or passed as a status, or one of
# the outcomes that are not statuses anywhere.
_STATUS = "success|error|interrupted|drained|rollback|fenced"
BARE = re.compile(
    rf"""status\s*(==|!=|=|\bin\b)\s*[(\[{{]?\s*["']({_STATUS})["']"""
    r"""|["'](drained|fenced)["']"""
    rf"""|["']({_STATUS})["']\s*(==|!=)\s*\w*status"""
)


def test_stored_outcomes_are_the_run_statuses_a_finish_writes() -> None:
    statuses = set(RunStatus.values)
    assert {outcome.value for outcome in STORED_OUTCOMES} <= statuses
    assert {FinishOutcome.SUCCESS, FinishOutcome.ERROR, FinishOutcome.INTERRUPTED} == STORED_OUTCOMES
    # The others mean "nothing stored as such": they must never read as a status.
    for outcome in set(FinishOutcome) - STORED_OUTCOMES:
        assert outcome.value not in statuses, outcome
    # The wire and the database keep the old strings.
    assert [o.value for o in FinishOutcome] == [
        "success",
        "error",
        "interrupted",
        "drained",
        "rollback",
        "fenced",
    ]


def test_a_run_result_refuses_an_unknown_outcome() -> None:
    assert RunResult(status="success").status is FinishOutcome.SUCCESS  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="succeeded"):
        RunResult(status="succeeded")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", RUN_PATH)
def test_the_run_path_names_outcomes_through_the_enum(name: str) -> None:
    source = (RUNTIME / name).read_text()
    # The enum's own definition is where the strings live.
    source = re.sub(r"class FinishOutcome\(StrEnum\):.*?\n\n\n", "", source, flags=re.S)
    found = [line.strip() for line in source.splitlines() if BARE.search(line)]
    assert not found, f"bare outcome strings in {name}: {found}"


def test_the_check_finds_what_the_old_executor_wrote() -> None:
    for line in (
        'return RunResult(status="drained"), []',
        'if outcome.status == "error" and x:',
        'if done.status and done.status not in ("drained", "rollback"):',
        'status = "rollback" if cancelled_action == "rollback" else RunStatus.INTERRUPTED',
        'FENCED = "fenced"',
    ):
        assert BARE.search(line), line
    assert not BARE.search('RunEvent("error", payload)')
    assert not BARE.search('{"event": "interrupted"}')
