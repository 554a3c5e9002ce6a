"""Define the configurable parameters for the agent (as the react-agent template does)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from typing_extensions import Annotated


@dataclass(kw_only=True)
class Context:
    """The context for the agent."""

    model: Annotated[str, {"__template_metadata__": {"kind": "llm"}}] = field(
        default="anthropic/claude-3-5-sonnet-20240620",
        metadata={
            "description": "The name of the language model to use for the agent's main interactions. "
            "Should be in the form: provider/model-name."
        },
    )

    template_greeting: str = field(default="unset", metadata={"description": "How to greet."})

    template_operator_wins: str = field(default="unset", metadata={"description": "Set by whom?"})

    def __post_init__(self) -> None:
        """Fetch env vars for attributes that were not passed as args."""
        for f in fields(self):
            if not f.init:
                continue

            if getattr(self, f.name) == f.default:
                setattr(self, f.name, os.environ.get(f.name.upper(), f.default))
