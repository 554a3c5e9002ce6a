"""Metadata filters returned by authorization handlers, as the Agent Server defines them.

Grammar (`langgraph_sdk.Auth` handlers): `{"key": "v"}` or `{"key": {"$eq": "v"}}`,
`{"key": {"$contains": "v" | ["v1", "v2"]}}`, `{"$or": [f1, f2, ...]}`, `{"$and": [...]}`, an implicit
AND across keys, nesting at most two levels deep. A filter narrows which rows of a resource's `metadata`
column a request may touch; it is applied on top of the tenancy scope, never instead of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

MAX_DEPTH = 2


class InvalidFilterError(ValueError):
    """A handler returned something that is not a metadata filter."""


def validate_filter(value: Any, *, depth: int = 0) -> dict[str, Any]:
    """`value` as a filter dict; raises `InvalidFilterError` naming what is wrong."""
    if not isinstance(value, Mapping):
        raise InvalidFilterError(f"a filter must be a dict, not {type(value).__name__}")
    if depth > MAX_DEPTH:
        raise InvalidFilterError(f"filters nest at most {MAX_DEPTH} levels deep")
    for key, condition in value.items():
        if not isinstance(key, str):
            raise InvalidFilterError("filter keys must be strings")
        if key in ("$or", "$and"):
            if not isinstance(condition, list | tuple) or len(condition) < 2:
                raise InvalidFilterError(f"{key} takes a list of at least two filters")
            for branch in condition:
                validate_filter(branch, depth=depth + 1)
        elif key.startswith("$"):
            raise InvalidFilterError(f"unknown operator {key}")
        elif isinstance(condition, Mapping) and (
            len(condition) != 1 or next(iter(condition)) not in ("$eq", "$contains")
        ):
            raise InvalidFilterError(f"{key}: a condition is a value, {{'$eq': v}} or {{'$contains': v}}")
    return dict(value)


def filter_q(value: Mapping[str, Any], *, field: str = "metadata") -> Q:
    """The Django `Q` selecting rows whose JSON `field` matches the filter."""
    q = Q()
    for key, condition in value.items():
        if key == "$or":
            either = Q()
            for branch in condition:
                either |= filter_q(branch, field=field)
            q &= either
        elif key == "$and":
            for branch in condition:
                q &= filter_q(branch, field=field)
        elif isinstance(condition, Mapping) and "$contains" in condition:
            wanted = condition["$contains"]
            items = list(wanted) if isinstance(wanted, list | tuple) else [wanted]
            q &= Q(**{f"{field}__contains": {key: items}})
        else:
            expected = condition["$eq"] if isinstance(condition, Mapping) else condition
            q &= Q(**{f"{field}__contains": {key: expected}})
    return q


def filter_matches(document: Any, value: Mapping[str, Any]) -> bool:
    """Whether the JSON `document` matches the filter: `filter_q`'s rule, for rows outside Django's
    tables (store items, whose `value` plays the part of `metadata`)."""
    for key, condition in value.items():
        if key == "$or":
            matched = any(filter_matches(document, branch) for branch in condition)
        elif key == "$and":
            matched = all(filter_matches(document, branch) for branch in condition)
        elif isinstance(condition, Mapping) and "$contains" in condition:
            wanted = condition["$contains"]
            items = list(wanted) if isinstance(wanted, list | tuple) else [wanted]
            matched = _json_contains(document, {key: items})
        else:
            expected = condition["$eq"] if isinstance(condition, Mapping) else condition
            matched = _json_contains(document, {key: expected})
        if not matched:
            return False
    return True


def _json_contains(actual: Any, expected: Any) -> bool:
    """Postgres' `jsonb @> jsonb` below the top level, which `filter_q`'s `__contains` compiles to."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            name in actual and _json_contains(actual[name], part) for name, part in expected.items()
        )
    if isinstance(expected, list | tuple):
        return isinstance(actual, list | tuple) and all(
            any(_json_contains(element, part) for element in actual) for part in expected
        )
    if isinstance(actual, Mapping | list | tuple):
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):  # JSON true is not 1
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    return bool(actual == expected)
