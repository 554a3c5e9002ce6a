"""Fixtures shared by the runtime's tests."""

from atrium.runtime.tests.receiver import receiver

__all__ = ["receiver"]
