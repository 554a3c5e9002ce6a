"""Attack tests: each finding of the trust review, tried as a client would through the real stack.

The live stack (`live_stack`) comes from `atrium.runtime.tests.live_stack`, shared with the conformance
suite; `stack`, `client` (the SDK as a builder) and `http` (raw, as a builder) are its shorthands.
`receiver` is a loopback webhook receiver standing in for an outside host."""

from atrium.runtime.tests.live_stack import SUITE_FIXTURES
from atrium.runtime.tests.receiver import receiver

stack, client, http = SUITE_FIXTURES

__all__ = ["receiver"]
