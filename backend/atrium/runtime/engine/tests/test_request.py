"""RunCreate ``command`` and ``stream_mode`` handling (§3)."""

from __future__ import annotations

import pytest
from langgraph.types import Command, Send

from atrium.runtime.engine.request import RunRequest, command_from_request


def test_resume_value_and_map_pass_through() -> None:
    assert command_from_request({"resume": "yes"}) == Command(resume="yes")
    assert command_from_request({"resume": {"i1": 1, "i2": 2}}) == Command(resume={"i1": 1, "i2": 2})


def test_update_as_pairs_becomes_tuples() -> None:
    assert command_from_request({"update": [["a", 1], ["b", 2]]}).update == [("a", 1), ("b", 2)]
    assert command_from_request({"update": {"a": 1}}).update == {"a": 1}


def test_goto_accepts_names_sends_and_lists() -> None:
    assert command_from_request({"goto": "node"}).goto == ("node",)
    assert command_from_request({"goto": {"node": "n", "input": {"x": 1}}}).goto == (Send("n", {"x": 1}),)
    assert command_from_request({"goto": ["a", {"node": "b", "input": 2}]}).goto == ("a", Send("b", 2))


def test_command_wins_over_input() -> None:
    request = RunRequest(run_id="r", thread_id="t", input={"x": 1}, command={"resume": 1})

    assert request.graph_input() == Command(resume=1)
    assert RunRequest(run_id="r", thread_id="t", input={"x": 1}).graph_input() == {"x": 1}


def test_unknown_stream_modes_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown stream_mode \\['tools'\\]"):
        RunRequest(run_id="r", thread_id="t", stream_mode=["values", "tools"])  # type: ignore[list-item]
