"""The run path's tables keep no index whose column leads another index (migration 0008): each was
one more index update per row a run writes, for no query."""

from __future__ import annotations

import pytest
from django.db import connection

REDUNDANT = {
    ("runtime_run", "(thread_id)"),
    ("runtime_thread", "(org_id)"),
    ("checkpoints", "(thread_id)"),
    ("checkpoint_blobs", "(thread_id)"),
    ("checkpoint_writes", "(thread_id)"),
}


def index_columns() -> set[tuple[str, str]]:
    """(table, its indexed columns as Postgres prints them) of every index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, substring(indexdef FROM '\\(.*\\)$') FROM pg_indexes "
            "WHERE schemaname = 'public'"
        )
        return {(table, columns) for table, columns in cursor.fetchall()}


@pytest.mark.django_db
def test_no_index_repeats_the_leading_column_of_another():
    indexes = index_columns()
    assert not REDUNDANT & indexes
    # what serves lookups by those columns instead
    assert ("runtime_run", "(thread_id, status, created_at)") in indexes
    assert ("runtime_thread", "(org_id, owner_id, created_at DESC)") in indexes
    assert ("checkpoints", "(thread_id, checkpoint_ns, checkpoint_id)") in indexes
