"""A chat agent with long-term memory: it saves facts about its user and recalls the relevant ones."""

from memory_agent.graph import graph

__all__ = ["graph"]
