"""Creating a run on a thread goes through the selectors' visibility rules, whose SQL is compiled once
per caller's scope: whoever created a run before, each caller sees only the threads and assistants
their own scope allows."""

from __future__ import annotations

import dataclasses

import pytest

from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Narrowing, scoped
from atrium.runtime.models import Run
from atrium.runtime.services.runs import RunCreate, run_create
from atrium.runtime.services.threads import thread_create


@pytest.fixture(autouse=True)
def _no_messages(monkeypatch):
    monkeypatch.setattr("atrium.runtime.dispatch.enqueue_run", lambda run_id, delay=0: None)
    monkeypatch.setattr("atrium.runtime.dispatch.announce_run", lambda run_id, thread_id: None)


def create(member, thread_id, assistant_id="echo") -> Run:
    with scoped(member.scope()):
        return run_create(thread_id=thread_id, payload=RunCreate(assistant_id=assistant_id))


def new_thread(member):
    with scoped(member.scope()):
        return thread_create()[0]


@pytest.mark.django_db
def test_each_caller_gets_their_own_visibility_whatever_ran_before(admin, editor, viewer, outsider):
    from conftest import Member

    from atrium.accounts.services import user_create
    from atrium.orgs.services import membership_ensure

    other_editor_user = user_create(email="other-editor@example.com", password="a-long-test-password")
    membership_ensure(org=editor.org, user=other_editor_user, role=editor.role)
    other_editor = Member(user=other_editor_user, org=editor.org, role=editor.role)
    mine, theirs = new_thread(editor), new_thread(other_editor)

    # the owner creates runs on their thread (the scope's compiled SQL is now cached)
    assert create(editor, mine.id).thread_id == mine.id
    # another editor of the org does not see it, before or after the owner's success
    with pytest.raises(NotFoundError):
        create(other_editor, mine.id)
    assert create(other_editor, theirs.id).thread_id == theirs.id
    with pytest.raises(NotFoundError):
        create(editor, theirs.id)
    # an org admin sees every thread of the org; another org sees none of them
    assert create(admin, mine.id).thread_id == mine.id
    with pytest.raises(NotFoundError):
        create(outsider, mine.id)
    # the owner still can, and nothing was written by the refused attempts
    assert create(editor, mine.id).thread_id == mine.id
    assert Run.unscoped.filter(thread_id=mine.id).count() == 3
    assert Run.unscoped.filter(thread_id=theirs.id).count() == 1


@pytest.mark.django_db
def test_an_authorization_handlers_narrowing_still_hides_threads(editor):
    thread = new_thread(editor)
    narrowed = dataclasses.replace(
        editor.scope(), narrowing=Narrowing(resource="threads", filter={"team": ["red"]})
    )
    with scoped(narrowed), pytest.raises(NotFoundError):
        run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo"))
    with scoped(editor.scope()):
        assert run_create(thread_id=thread.id, payload=RunCreate(assistant_id="echo")).thread_id == thread.id
