"""What a run may be told: who the user is, and which model and prompt to use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from memory_agent import prompts


@dataclass(kw_only=True)
class Context:
    """The agent's run-time settings."""

    user_id: str = "default"
    """Whose memories to read and write."""

    model: str = field(
        default="anthropic/claude-sonnet-4-5",
        metadata={"description": "The chat model, as provider/model-name."},
    )

    system_prompt: str = prompts.SYSTEM_PROMPT

    def __post_init__(self) -> None:
        # A field left at its default takes the environment's value of the same name in capitals.
        for f in fields(self):
            if not f.init:
                continue
            if getattr(self, f.name) == f.default:
                setattr(self, f.name, os.environ.get(f.name.upper(), f.default))
