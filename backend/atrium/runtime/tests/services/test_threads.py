"""thread_create: one statement, the caller's org and ownership, duplicates answered without leaking."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import transaction

from atrium.core.errors import ConflictError
from atrium.core.tenancy import scoped
from atrium.runtime.models import Thread
from atrium.runtime.services.threads import thread_create


@pytest.mark.django_db
def test_a_new_thread_is_the_callers(editor: Any) -> None:
    with scoped(editor.scope()):
        thread, created = thread_create(metadata={"k": "v"}, ttl={"ttl": 5})
    assert created
    stored = Thread.unscoped.get(id=thread.id)
    assert (stored.org_id, stored.owner_id) == (editor.org.id, editor.user.id)
    assert stored.metadata == {"k": "v"}
    assert stored.status == "idle"
    assert stored.ttl_minutes == 5.0
    assert stored.expires_at is not None
    assert stored.created_at == thread.created_at
    assert stored.updated_at == thread.updated_at


@pytest.mark.django_db
def test_a_visible_duplicate_is_a_conflict_or_the_existing_thread(editor: Any) -> None:
    with scoped(editor.scope()):
        thread, _ = thread_create()
        with pytest.raises(ConflictError):
            thread_create(thread_id=thread.id)
        again, created = thread_create(thread_id=thread.id, if_exists="do_nothing")
    assert (again.id, created) == (thread.id, False)


@pytest.mark.django_db
def test_an_id_taken_in_another_org_is_a_conflict_and_leaves_the_transaction_usable(
    editor: Any, outsider: Any
) -> None:
    taken = uuid.uuid4()
    with scoped(outsider.scope()):
        thread_create(thread_id=taken)
    with scoped(editor.scope()), transaction.atomic():
        with pytest.raises(ConflictError) as raised:
            thread_create(thread_id=taken, if_exists="do_nothing")  # invisible: not "do nothing"
        assert str(taken) in str(raised.value)
        mine, _ = thread_create()  # the caller's transaction goes on
    assert Thread.unscoped.get(id=taken).org_id == outsider.org.id
    assert Thread.unscoped.filter(id=mine.id).exists()
