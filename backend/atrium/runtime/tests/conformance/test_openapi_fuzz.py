"""Both OpenAPI documents fuzzed against the live stack with schemathesis: no 5xx, and every
documented response matches its schema.

The control plane (`/api/v1/openapi.json`) and the Agent Server API (`/agent/openapi.json`) are each
run through a bounded fuzzing phase (valid and invalid bodies, parameters and headers drawn from the
schemas), authenticated with an API key of the admin of an org of its own (what the fuzzer creates,
changes and deletes touches no other test's data), with a fixed seed so a failure reproduces.
The exhaustive coverage phase takes minutes; docs/runbooks/observability.md shows how to run it.

A second, shorter pass per document keeps the cases valid but puts one hostile value into each
(`fuzz_hooks.py`: JSON nested around and far past `ATRIUM_MAX_JSON_DEPTH`, long strings and arrays,
integers and floats at and past what clients hold, out-of-range numbers in query strings).

Bad input must come back as a 4xx with a message; a 5xx or a response that breaks the documented
schema fails the test with schemathesis's report (each failure with a `curl` line).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from atrium.runtime.tests.conformance.conftest import LiveStack
from atrium.runtime.tests.live_stack import BACKEND_DIR

# Cases per operation: about a minute on two cores for both documents (~80 operations).
MAX_EXAMPLES = 10
SEED = 20261125
CHECKS = "not_a_server_error,response_schema_conformance"
# Hostile values (fuzz_hooks.py: deep, huge, out of range) on valid cases: fewer per operation, as
# each body is larger; about half a minute for both documents.
HOSTILE_EXAMPLES = 3
HOSTILE_HOOKS = "atrium.runtime.tests.conformance.fuzz_hooks"


def _schemathesis(
    stack: LiveStack,
    document: str,
    workdir: Path,
    config: str = "",
    *,
    max_examples: int = MAX_EXAMPLES,
    hooks: str | None = None,
    extra: tuple[str, ...] = (),
) -> None:
    (workdir / "schemathesis.toml").write_text(config)
    env = dict(os.environ)
    if hooks is not None:
        env["SCHEMATHESIS_HOOKS"] = hooks
        env["PYTHONPATH"] = os.pathsep.join([str(BACKEND_DIR), env.get("PYTHONPATH", "")])
    args = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "run",
        f"{stack.base_url}{document}",
        "--header",
        f"x-api-key: {stack.keys['fuzz']}",
        "--checks",
        CHECKS,
        "--phases",
        "fuzzing",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(SEED),
        # One worker: the generator is CPU-bound, and Python 3.11's parser is not safe to share
        # between threads (schemathesis errors out intermittently with two).
        "--workers",
        "1",
        "--request-timeout",
        "15",
        "--no-shrink",
        *extra,
    ]
    result = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    report = result.stdout + result.stderr
    summary = [line for line in report.splitlines() if "generated" in line]
    assert result.returncode == 0, f"schemathesis found problems in {document}:\n{report[-20000:]}"
    assert summary, report[-5000:]  # it did run cases


def test_control_plane_openapi_has_no_5xx_or_schema_violation(stack: LiveStack, tmp_path: Path) -> None:
    # Every operation sits under /orgs/{org}: fuzzing the admin's own org reaches the operations'
    # logic instead of stopping at the 404 of an unknown org.
    config = f'[parameters]\n"path.org" = "{stack.org_slug("fuzz")}"\n'
    _schemathesis(stack, "/api/v1/openapi.json", tmp_path, config)


def test_agent_api_openapi_has_no_5xx_or_schema_violation(stack: LiveStack, tmp_path: Path) -> None:
    _schemathesis(stack, "/agent/openapi.json", tmp_path)


def test_control_plane_answers_hostile_values_without_5xx(stack: LiveStack, tmp_path: Path) -> None:
    config = f'[parameters]\n"path.org" = "{stack.org_slug("fuzz")}"\n'
    _schemathesis(
        stack,
        "/api/v1/openapi.json",
        tmp_path,
        config,
        max_examples=HOSTILE_EXAMPLES,
        hooks=HOSTILE_HOOKS,
        extra=("--mode", "positive"),
    )


def test_agent_api_answers_hostile_values_without_5xx(stack: LiveStack, tmp_path: Path) -> None:
    _schemathesis(
        stack,
        "/agent/openapi.json",
        tmp_path,
        max_examples=HOSTILE_EXAMPLES,
        hooks=HOSTILE_HOOKS,
        extra=("--mode", "positive"),
    )
