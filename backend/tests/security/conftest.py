"""Attack tests: each finding of the trust review, tried as a client would through the real stack.

The live stack (`live_stack`, `stack`, `client`, `http`) comes from `atrium.runtime.tests.live_stack`,
shared with the conformance suite."""
