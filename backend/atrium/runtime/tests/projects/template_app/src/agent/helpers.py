"""Helpers of the agent package, imported by the graph as `agent.helpers`."""

from __future__ import annotations

import humanize


def describe_size(num_bytes: int) -> str:
    return humanize.naturalsize(num_bytes)
