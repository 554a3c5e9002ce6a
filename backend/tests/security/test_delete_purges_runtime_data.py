"""An org or a user deleted in the control plane takes what it left in LangGraph's tables with it:
checkpoints are keyed by thread id and store items by prefix, so no cascade reaches them, and without
this a deleted org's conversations, memories and files stayed in the database for good."""

from __future__ import annotations

import json
import uuid

from conftest import Member
from django.db import connection
from django.test import Client

from atrium.accounts.models import User
from atrium.orgs.models import Organization
from atrium.runtime.models import Thread

CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


def _thread_with_checkpoint(org: Organization, owner: User) -> str:
    thread = Thread.unscoped.create(org=org, owner=owner)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint, metadata) "
            "VALUES (%s, '', %s, %s, '{}')",
            [str(thread.id), str(uuid.uuid4()), json.dumps({"v": 1})],
        )
        cur.execute(
            "INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type) "
            "VALUES (%s, '', 'messages', '1', 'empty')",
            [str(thread.id)],
        )
    return str(thread.id)


def _item(prefix: str) -> str:
    with connection.cursor() as cur:
        cur.execute("INSERT INTO store (prefix, key, value) VALUES (%s, 'k', '{}'::jsonb)", [prefix])
    return prefix


def _checkpoint_rows(thread_id: str) -> int:
    total = 0
    with connection.cursor() as cur:
        for table in CHECKPOINT_TABLES:
            cur.execute(f"SELECT count(*) FROM {table} WHERE thread_id = %s", [thread_id])
            total += cur.fetchone()[0]
    return total


def _items(prefixes: list[str]) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT prefix FROM store WHERE prefix = ANY(%s) ORDER BY prefix", [prefixes])
        return [row[0] for row in cur.fetchall()]


def test_an_org_deleted_in_the_admin_takes_its_checkpoints_and_store_items(
    operator: User, end_user: Member, outsider: Member
) -> None:
    # given: two orgs, each with a conversation, shared items and a member's private items
    ours, theirs = end_user.org, outsider.org
    our_thread = _thread_with_checkpoint(ours, end_user.user)
    their_thread = _thread_with_checkpoint(theirs, outsider.user)
    gone = [
        _item(f"org:{ours.id}.org.skills"),
        _item(f"org:{ours.id}.user:{end_user.user.id}.memories"),
        _item(f"org:{ours.id}.user:{end_user.user.id}.uploads.{our_thread}"),
    ]
    kept = [
        _item(f"org:{theirs.id}.org.skills"),
        _item(f"org:{theirs.id}.user:{outsider.user.id}.memories"),
    ]
    browser = Client()
    browser.force_login(operator)

    # when
    response = browser.post(f"/admin/orgs/organization/{ours.id}/delete/", {"post": "yes"})

    # then
    assert response.status_code == 302
    assert not Organization.objects.filter(id=ours.id).exists()
    assert _checkpoint_rows(our_thread) == 0
    assert _items(gone) == []
    # and another org loses nothing
    assert _checkpoint_rows(their_thread) == 2
    assert _items(kept) == sorted(kept)


def test_a_deleted_user_takes_their_private_items_in_every_org_and_nobody_elses(
    end_user: Member, editor: Member, outsider: Member
) -> None:
    # given: the user's private items in two orgs, and items of the org and of other users
    user = end_user.user
    gone = [
        _item(f"org:{end_user.org.id}.user:{user.id}.memories"),
        _item(f"org:{end_user.org.id}.user:{user.id}"),
        _item(f"org:{outsider.org.id}.user:{user.id}.memories.notes"),
        # the deep agent's memory of the user, in the org's shared partition
        _item(f"org:{end_user.org.id}.org.{end_user.org.id}.user.{user.id}.memories"),
    ]
    # a user id that begins with this one's digits is another user (user:12 is not user:1)
    kept = [
        _item(f"org:{end_user.org.id}.org.skills"),
        _item(f"org:{end_user.org.id}.user:{editor.user.id}.memories"),
        _item(f"org:{end_user.org.id}.user:{user.id}0.memories"),
        _item(f"org:{end_user.org.id}.users:{user.id}"),
        _item(f"org:{end_user.org.id}.org.{end_user.org.id}.user.{editor.user.id}.memories"),
        _item(f"org:{end_user.org.id}.org.{end_user.org.id}.user.{user.id}0.memories"),
        _item(f"org:{end_user.org.id}.org.{end_user.org.id}.assistant.x.user.{user.id}"),
    ]
    thread = _thread_with_checkpoint(end_user.org, user)

    # when
    user.delete()

    # then
    assert _items(gone) == []
    assert _items(kept) == sorted(kept)
    # and the org keeps the conversation, ownerless
    assert Thread.unscoped.get(id=thread).owner_id is None
    assert _checkpoint_rows(thread) == 2
