"""`redaction.scrubbed_kwargs`: a run's stored request is scrubbed by graphs that scrub their input."""

from __future__ import annotations

from typing import Any

from atrium.runtime.redaction import scrubbed_kwargs


class Scrubbing:
    def scrub_input(self, value: Any) -> Any:
        if isinstance(value, str):
            if "BLOCK" in value:
                raise ValueError("refused")
            return value.replace("secret", "[x]")
        if isinstance(value, dict):
            return {k: self.scrub_input(v) for k, v in value.items()}
        return value


def test_input_and_command_are_scrubbed_and_the_rest_is_kept() -> None:
    kwargs = {"input": {"m": "a secret"}, "command": {"resume": "secret"}, "config": {"c": "secret"}}
    assert scrubbed_kwargs(Scrubbing(), kwargs) == {
        "input": {"m": "a [x]"},
        "command": {"resume": "[x]"},
        "config": {"c": "secret"},
    }
    assert kwargs["input"] == {"m": "a secret"}  # the claim's own copy is untouched


def test_nothing_to_write_when_the_graph_does_not_scrub_or_nothing_changes() -> None:
    assert scrubbed_kwargs(object(), {"input": "secret"}) is None
    assert scrubbed_kwargs(Scrubbing(), {"input": "plain", "command": None}) is None


def test_a_refused_input_is_not_kept() -> None:
    assert scrubbed_kwargs(Scrubbing(), {"input": "BLOCK me", "command": None}) == {
        "input": None,
        "command": None,
    }
