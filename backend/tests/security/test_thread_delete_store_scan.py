"""Deleting a thread deletes the files attached to it (checkpoints.delete_thread). It did so with
`prefix LIKE 'org:%.user:%.uploads.<thread id>'`: a pattern no index of the store answers, so every
thread delete, and every stateless run (whose temporary thread is deleted when it ends), read the whole
store table, every org's memories, skills and files, and the pattern reached namespaces of any org and
any user that merely end in `uploads.<thread id>`. An end user could keep the database scanning at the
rate they may start runs. The delete now names the one prefix the files live at: the owner's.
"""

from __future__ import annotations

from conftest import Member
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atrium.core.tenancy import scoped
from atrium.runtime.models import Thread
from atrium.runtime.services.threads import thread_delete


def _item(prefix: str) -> str:
    with connection.cursor() as cur:
        cur.execute("INSERT INTO store (prefix, key, value) VALUES (%s, '/f.md', '{}'::jsonb)", [prefix])
    return prefix


def _items(prefixes: list[str]) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT prefix FROM store WHERE prefix = ANY(%s) ORDER BY prefix", [prefixes])
        return [row[0] for row in cur.fetchall()]


def _plan(sql: str, params: object) -> str:
    """The plan of a statement as it would run if a sequential scan were a last resort."""
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("RESET enable_seqscan")
    return plan


def test_deleting_a_thread_reads_only_its_owners_files(end_user: Member, outsider: Member) -> None:
    # given an end user's thread with a file attached, and namespaces of others (another org's user,
    # and the user's own memories) that end in the same "uploads.<thread id>"
    thread = Thread.unscoped.create(org=end_user.org, owner=end_user.user)
    files = _item(f"org:{end_user.org.id}.user:{end_user.user.id}.uploads.{thread.id}")
    others = [
        _item(f"org:{outsider.org.id}.user:{outsider.user.id}.notes.uploads.{thread.id}"),
        _item(f"org:{end_user.org.id}.user:{end_user.user.id}.memories.uploads.{thread.id}"),
    ]

    # when the user deletes the thread
    with scoped(end_user.scope()), CaptureQueriesContext(connection) as queries:
        thread_delete(thread_id=thread.id)

    # then its files are gone, and nothing else is
    assert _items([files]) == []
    assert _items(others) == sorted(others)
    # and the store was reached by its index, not read whole
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE FROM store")]
    assert len(deletes) == 1
    plan = _plan(deletes[0], None)
    assert "Seq Scan on store" not in plan, plan
