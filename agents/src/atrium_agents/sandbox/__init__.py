"""Isolated places for agents to run code: a provider interface and a bubblewrap implementation."""

from atrium_agents.sandbox.bubblewrap import BubblewrapProvider, BubblewrapSandbox, Limits
from atrium_agents.sandbox.provider import SandboxError, SandboxInfo, SandboxProvider, sandbox_id_for

__all__ = [
    "BubblewrapProvider",
    "BubblewrapSandbox",
    "Limits",
    "SandboxError",
    "SandboxInfo",
    "SandboxProvider",
    "sandbox_id_for",
]
