"""Schemathesis hooks that make hostile values out of the schema's valid ones (SCHEMATHESIS_HOOKS).

Each generated JSON body gets one field replaced (or added) with a value no schema describes: JSON
nested around the depth limit and far past it, long strings and long arrays, integers past what
JSON clients hold, floats at a double's edge. Each generated query gets its numbers pushed far out
of range the same way. The server must answer all of it with a 4xx (or accept it), never a 5xx.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

DEPTH_LIMIT = int(os.environ.get("ATRIUM_MAX_JSON_DEPTH", "64"))


def _nested(depth: int, shape: str) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"n": value} if shape == "object" else [value]
    return value


deep = st.builds(
    _nested,
    # Mostly past 254 levels, which orjson cannot write back; some around the limit. Hypothesis
    # favours a list's first elements, so the most hostile come first.
    st.sampled_from([400, 900, 255, DEPTH_LIMIT + 1, DEPTH_LIMIT - 2, 600]),
    st.sampled_from(["object", "array"]),
)
huge = st.one_of(
    st.integers(min_value=2**53 - 2, max_value=2**70)
    | st.integers(min_value=-(2**70), max_value=-(2**53) + 2),
    st.sampled_from([1.7976931348623157e308, -1.7976931348623157e308, 5e-324, 1e300]),
    st.sampled_from([10**15, 2**31, 2**63 - 1]),
    st.integers(min_value=1, max_value=200_000).map(lambda n: "x" * n),
    st.integers(min_value=1, max_value=20_000).map(lambda n: list(range(n))),
)
# Mostly deep: the finding's shape (a deep value stored once failed every read of it).
hostile = st.one_of(deep, deep, huge)


query_numbers = st.sampled_from(["-1", str(2**31), str(2**63), str(10**30), "1e400", "NaN"])


def _with(case: Any, body: Any = None, query: Any = None) -> Any:
    if body is not None:
        case.body = body
    if query is not None:
        case.query = query
    return case


@schemathesis.hook
def flatmap_case(context: Any, case: Any) -> Any:
    """One hostile value in the case's JSON body (a field replaced or added) or its query string."""
    if isinstance(case.body, dict):
        # Fields holding free JSON (objects, lists, null) reach storage; scalars mostly stop at validation.
        free = [key for key, value in case.body.items() if value is None or isinstance(value, dict | list)]
        keys = sorted(free or case.body) or ["metadata"]
        return st.tuples(st.sampled_from(keys), hostile).map(
            lambda pair: _with(case, body={**case.body, pair[0]: pair[1]})
        )
    if isinstance(case.query, dict) and case.query:
        return st.tuples(st.sampled_from(sorted(case.query)), query_numbers).map(
            lambda pair: _with(case, query={**case.query, pair[0]: pair[1]})
        )
    return st.just(case)
