"""Handler filters: the grammar is checked, and each form selects exactly the rows it names."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from conftest import Member

from atrium.core.metadata_filter import InvalidFilterError, filter_matches, validate_filter
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


CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"owner": "alice"}, {"a1", "a2"}),
    ({"owner": {"$eq": "bob"}}, {"b1"}),
    ({"tags": {"$contains": "x"}}, {"a1", "b1"}),
    ({"tags": {"$contains": ["x", "y"]}}, {"a1"}),
    ({"$or": [{"owner": "bob"}, {"tags": {"$contains": "y"}}]}, {"a1", "b1"}),
    ({"owner": "alice", "$and": [{"tags": {"$contains": "x"}}, {"name": "a1"}]}, {"a1"}),
]
DOCUMENTS = [
    {"name": "a1", "owner": "alice", "tags": ["x", "y"]},
    {"name": "a2", "owner": "alice", "tags": []},
    {"name": "b1", "owner": "bob", "tags": ["x"]},
]


@pytest.mark.django_db
@pytest.mark.parametrize(("found", "expected"), CASES)
def test_a_narrowing_selects_exactly_the_matching_threads(
    admin: Member, found: dict[str, Any], expected: set[str]
) -> None:
    with scoped(admin.scope()):
        for document in DOCUMENTS:
            thread_create(metadata=document)
    narrowed = dataclasses.replace(admin.scope(), narrowing=Narrowing("threads", validate_filter(found)))
    with scoped(narrowed):
        assert {t.metadata["name"] for t in thread_search()} == expected
    # A narrowing of another resource leaves threads alone
    with scoped(dataclasses.replace(narrowed, narrowing=Narrowing("crons", found))):
        assert thread_search().count() == 3


@pytest.mark.parametrize(("found", "expected"), CASES)
def test_filter_matches_selects_the_documents_filter_q_selects(
    found: dict[str, Any], expected: set[str]
) -> None:
    # Store items are matched in Python: the same filter must select the same documents.
    assert {d["name"] for d in DOCUMENTS if filter_matches(d, validate_filter(found))} == expected


@pytest.mark.parametrize(
    ("document", "found", "matches"),
    [
        ({"n": 1}, {"n": True}, False),
        ({"n": True}, {"n": True}, True),
        ({"n": 1.0}, {"n": 1}, True),
        ({"o": {"a": 1, "b": 2}}, {"o": {"$eq": {"a": 1}}}, True),
        ({"o": [1, 2]}, {"o": 1}, False),
        ({}, {"owner": None}, False),
        ({"owner": None}, {"owner": None}, True),
    ],
)
def test_filter_matches_follows_jsonb_containment(
    document: Any, found: dict[str, Any], matches: bool
) -> None:
    assert filter_matches(document, found) is matches
