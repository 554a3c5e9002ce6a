"""Handler filters: the grammar is checked, and each form selects exactly the rows it names."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from conftest import Member

from atrium.core.metadata_filter import InvalidFilterError, validate_filter
from atrium.core.tenancy import Narrowing, scoped
from atrium.runtime.selectors.threads import thread_search
from atrium.runtime.services.threads import thread_create


@pytest.mark.parametrize(
    "bad",
    [
        ["owner"],
        {"$or": [{"a": 1}]},
        {"$nor": [{"a": 1}, {"b": 2}]},
        {"a": {"$gt": 1}},
        {"$or": [{"$and": [{"$or": [{"a": 1}, {"b": 1}]}, {"c": 1}]}, {"d": 1}]},
    ],
)
def test_what_is_not_a_filter_is_refused(bad: Any) -> None:
    with pytest.raises(InvalidFilterError):
        validate_filter(bad)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ({"owner": "alice"}, {"a1", "a2"}),
        ({"owner": {"$eq": "bob"}}, {"b1"}),
        ({"tags": {"$contains": "x"}}, {"a1", "b1"}),
        ({"tags": {"$contains": ["x", "y"]}}, {"a1"}),
        ({"$or": [{"owner": "bob"}, {"tags": {"$contains": "y"}}]}, {"a1", "b1"}),
        ({"owner": "alice", "$and": [{"tags": {"$contains": "x"}}, {"name": "a1"}]}, {"a1"}),
    ],
)
def test_a_narrowing_selects_exactly_the_matching_threads(
    admin: Member, found: dict[str, Any], expected: set[str]
) -> None:
    with scoped(admin.scope()):
        thread_create(metadata={"name": "a1", "owner": "alice", "tags": ["x", "y"]})
        thread_create(metadata={"name": "a2", "owner": "alice", "tags": []})
        thread_create(metadata={"name": "b1", "owner": "bob", "tags": ["x"]})
    narrowed = dataclasses.replace(admin.scope(), narrowing=Narrowing("threads", validate_filter(found)))
    with scoped(narrowed):
        assert {t.metadata["name"] for t in thread_search()} == expected
    # A narrowing of another resource leaves threads alone
    with scoped(dataclasses.replace(narrowed, narrowing=Narrowing("crons", found))):
        assert thread_search().count() == 3
