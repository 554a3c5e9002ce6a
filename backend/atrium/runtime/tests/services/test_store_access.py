"""The store's namespace rule (selectors.store): who may read and write which namespace."""

from __future__ import annotations

import uuid

import pytest

from atrium.core.errors import ValidationFailedError
from atrium.core.tenancy import Role, Scope, ScopeMissingError
from atrium.runtime.selectors.store import (
    FOREIGN,
    NamespaceAccess,
    namespace_access,
    subtree_visibility,
    validate_namespace,
)

ORG = uuid.UUID("0193a0c4-0000-7000-8000-000000000001")
OTHER_ORG = uuid.UUID("0193a0c4-0000-7000-8000-000000000002")
ME, SOMEONE = 7, 8


def scope(role: Role, user_id: int = ME) -> Scope:
    return Scope(user_id=user_id, org_id=ORG, org_slug="acme", role=role)


def ns(*labels: str) -> tuple[str, ...]:
    return labels


ORG_ID = str(ORG)
READ_ONLY = NamespaceAccess(read=True, write=False)
READ_WRITE = NamespaceAccess(read=True, write=True)
NOTHING = NamespaceAccess(read=False, write=False)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.VIEWER, READ_ONLY),
        (Role.END_USER, READ_WRITE),
        (Role.BUILDER, READ_WRITE),
        (Role.ADMIN, READ_WRITE),
    ],
)
def test_own_user_memory_is_read_by_its_user_and_written_by_users_of_agents(role, expected):
    assert namespace_access(ns("org", ORG_ID, "user", str(ME), "memories"), scope=scope(role)) == expected
    assert namespace_access(ns("org", ORG_ID, "user", str(ME)), scope=scope(role)) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.VIEWER, NOTHING), (Role.BUILDER, NOTHING), (Role.ADMIN, READ_ONLY)],
)
def test_another_users_memory_is_hidden_except_that_admins_read_it(role, expected):
    namespace = ns("org", ORG_ID, "user", str(SOMEONE), "memories")
    assert namespace_access(namespace, scope=scope(role)) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.VIEWER, READ_ONLY), (Role.BUILDER, READ_ONLY), (Role.ADMIN, READ_WRITE)],
)
def test_org_memory_is_read_by_members_and_written_by_admins(role, expected):
    assert namespace_access(ns("org", ORG_ID, "memories"), scope=scope(role)) == expected
    # Anything else under the org that is not a user's or an assistant's follows the same rule.
    assert namespace_access(ns("org", ORG_ID, "user"), scope=scope(role)) == expected
    assert namespace_access(ns("org", ORG_ID), scope=scope(role)) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.VIEWER, READ_ONLY), (Role.BUILDER, READ_WRITE), (Role.ADMIN, READ_WRITE)],
)
def test_assistant_memory_is_read_by_members_and_written_by_builders(role, expected):
    assert namespace_access(ns("org", ORG_ID, "assistant", "a1", "memories"), scope=scope(role)) == expected


@pytest.mark.parametrize("role", [Role.VIEWER, Role.END_USER, Role.BUILDER, Role.ADMIN])
def test_skills_are_read_by_members_and_written_by_nobody_through_the_store(role):
    # The control plane (atrium.skills) checks a skill whole and writes it; a raw write would not.
    for namespace in (("org", ORG_ID, "skills"), ("org", ORG_ID, "assistant", "a1", "skills", "x")):
        assert namespace_access(ns(*namespace), scope=scope(role)) == READ_ONLY


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.VIEWER, READ_ONLY),
        (Role.END_USER, READ_WRITE),
        (Role.BUILDER, READ_WRITE),
        (Role.ADMIN, READ_WRITE),
    ],
)
def test_a_private_namespace_is_the_callers_own_written_by_users_of_agents(role, expected):
    # TenantStore puts it under the caller's own partition: whoever asks, it is theirs.
    assert namespace_access(ns("notes", "team"), scope=scope(role)) == expected
    assert namespace_access(ns("memories", str(SOMEONE)), scope=scope(role)) == expected
    assert namespace_access(ns("orgs", ORG_ID), scope=scope(role)) == expected


@pytest.mark.parametrize("role", [Role.VIEWER, Role.END_USER, Role.BUILDER, Role.ADMIN])
def test_a_threads_files_are_read_by_their_owner_and_written_by_nobody_through_the_store(role):
    # services/uploads.py checks every file and the thread's totals, and writes them; a raw write would not.
    for namespace in (("uploads",), ("uploads", str(uuid.uuid4())), ("uploads", "t", "nested")):
        access = namespace_access(ns(*namespace), scope=scope(role))
        assert (access.read, access.write, access.foreign) == (True, False, False)
        assert access.written_by == "POST /agent/threads/{thread_id}/files"


def test_a_scope_without_a_user_has_no_private_namespaces():
    userless = Scope(user_id=None, org_id=ORG, org_slug="acme", role=Role.ADMIN)
    assert namespace_access(ns("notes"), scope=userless) == NOTHING
    assert subtree_visibility(ns("notes"), scope=userless) == "none"
    assert namespace_access(ns("org", ORG_ID, "memories"), scope=userless) == READ_WRITE


@pytest.mark.parametrize("role", [Role.VIEWER, Role.BUILDER, Role.ADMIN])
def test_a_namespace_naming_another_org_or_none_is_foreign(role):
    assert namespace_access(ns("org", str(OTHER_ORG), "memories"), scope=scope(role)) == FOREIGN
    assert namespace_access(ns("org", str(OTHER_ORG), "user", str(ME)), scope=scope(role)) == FOREIGN
    assert namespace_access(ns("org"), scope=scope(role)) == FOREIGN
    assert namespace_access(ns("org", ORG_ID.upper(), "memories"), scope=scope(role)) == FOREIGN


def test_the_rule_fails_closed_without_an_org_or_a_role():
    with pytest.raises(ScopeMissingError):
        namespace_access(ns("notes"), scope=Scope(user_id=ME))
    roleless = Scope(user_id=ME, org_id=ORG)
    assert namespace_access(ns("notes"), scope=roleless) == NOTHING
    assert namespace_access(ns("org", ORG_ID, "user", str(ME)), scope=roleless) == NOTHING
    assert subtree_visibility(ns("notes"), scope=roleless) == "none"


@pytest.mark.parametrize(
    ("prefix", "role", "expected"),
    [
        ((), Role.ADMIN, "some"),  # could hold namespaces naming another org
        (("org",), Role.ADMIN, "some"),
        (("org", ORG_ID), Role.ADMIN, "all"),
        (("org", ORG_ID), Role.BUILDER, "some"),  # other users' memories live under it
        (("org", ORG_ID, "user"), Role.BUILDER, "some"),
        (("org", ORG_ID, "user", str(ME)), Role.VIEWER, "all"),
        (("org", ORG_ID, "user", str(SOMEONE)), Role.BUILDER, "none"),
        (("org", ORG_ID, "user", str(SOMEONE), "memories"), Role.ADMIN, "all"),
        (("org", ORG_ID, "memories"), Role.VIEWER, "all"),
        (("org", ORG_ID, "assistant"), Role.VIEWER, "all"),
        (("org", str(OTHER_ORG)), Role.ADMIN, "none"),
        (("notes",), Role.VIEWER, "all"),  # the caller's own partition
        (("*",), Role.BUILDER, "some"),  # a listing's wildcard spans both partitions
        (("org", ORG_ID, "*"), Role.BUILDER, "some"),  # ...and any user's memories
    ],
)
def test_subtree_visibility(prefix, role, expected):
    assert subtree_visibility(prefix, scope=scope(role)) == expected


def test_validate_namespace():
    assert validate_namespace(["a", "b"]) == ("a", "b")
    assert validate_namespace([], allow_empty=True) == ()
    for bad in ([], ["a", ""], ["a.b"], ["a", 1], ["a\x00"]):
        with pytest.raises(ValidationFailedError):
            validate_namespace(bad)
