"""Attack tests: each finding of the trust review, tried as a client would through the real stack.

The live stack (`live_stack`) comes from `atrium.runtime.tests.live_stack`, shared with the conformance
suite; `stack`, `client` (the SDK as a builder) and `http` (raw, as a builder) are its shorthands."""

from atrium.runtime.tests.live_stack import SUITE_FIXTURES

stack, client, http = SUITE_FIXTURES
