"""Direct SQL on LangGraph's checkpoint tables, for what the checkpointer API has no call for:
erasing one run's checkpoints (rollback), copying a thread, deleting a thread's history, patching the
head checkpoint's metadata; and on its store table, for a thread's files (copied and deleted with it).
Also what goes with a deleted org or user (`delete_org`, `delete_user_items`): Django's cascades do not
reach these tables, which are keyed by thread id and store prefix, not by foreign keys.

The tables and their key columns are LangGraph's (`checkpoints`, `checkpoint_blobs`,
`checkpoint_writes`, keyed by thread_id, checkpoint_ns, checkpoint_id); runs stamp `run_id` into each
checkpoint's metadata.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection

_DELETE_RUN_WRITES = """
DELETE FROM checkpoint_writes w USING checkpoints c
WHERE c.thread_id = %(t)s AND c.metadata->>'run_id' = %(r)s
  AND w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id
"""
_DELETE_RUN_CHECKPOINTS = "DELETE FROM checkpoints WHERE thread_id = %(t)s AND metadata->>'run_id' = %(r)s"
_TABLES = ("checkpoint_writes", "checkpoint_blobs", "checkpoints")


async def adelete_for_run(conn: Any, *, thread_id: str, run_id: str) -> None:
    """Erase the checkpoints a run wrote (rollback), on an async psycopg connection."""
    params = {"t": thread_id, "r": run_id}
    async with conn.cursor() as cur:
        await cur.execute(_DELETE_RUN_WRITES, params)
        await cur.execute(_DELETE_RUN_CHECKPOINTS, params)


def delete_org(*, org_id: Any) -> None:
    """The checkpoints of every thread of an org and every store item of its partition (shared items,
    each member's memories and files, skills). Called before its threads go (by cascade); its
    sandboxes go at the next sandbox sweep, which finds their threads and assistants gone."""
    org = f"org:{org_id}"
    with connection.cursor() as cur:
        for table in _TABLES:
            cur.execute(
                f"DELETE FROM {table} WHERE thread_id IN "  # noqa: S608
                "(SELECT id::text FROM runtime_thread WHERE org_id = %s)",
                [org_id],
            )
        # Prefixes are namespaces joined by "." (LangGraph refuses "." in a label); TenantStore puts
        # `org:<org id>` first.
        cur.execute("DELETE FROM store WHERE prefix = %s OR prefix LIKE %s", [org, f"{org}.%"])


def delete_user_items(*, user_id: int) -> None:
    """A user's private store partition in every org (memories, uploaded files) and their namespace in
    each org's shared partition, `("org", <org>, "user", <id>, ...)` (the deep agent's user memory).
    Their threads stay with their orgs, ownerless (`Thread.owner` is set null), as the orgs' records."""
    uid = int(user_id)
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM store WHERE prefix ~ %s OR prefix ~ %s",
            [rf"^org:[^.]+\.user:{uid}(\.|$)", rf"^org:([^.]+)\.org\.\1\.user\.{uid}(\.|$)"],
        )


def delete_thread(*, thread_id: str, uploads_prefix: str | None) -> None:
    """A thread's checkpoints, and the files attached to it: the store items at `uploads_prefix`, their
    namespace in the owner's private partition (services/uploads.py::thread_uploads_on_disk; None for
    a thread without an owner, whose files went with them). One exact prefix: an index lookup that
    reaches no other namespace, where a pattern would read every org's store on each delete."""
    with connection.cursor() as cur:
        for table in _TABLES:
            cur.execute(f"DELETE FROM {table} WHERE thread_id = %s", [thread_id])  # noqa: S608
        if uploads_prefix is not None:
            cur.execute("DELETE FROM store WHERE prefix = %s", [uploads_prefix])


def copy_thread(*, source_id: str, target_id: str) -> None:
    """Duplicate every checkpoint row of a thread under a new thread id (POST /threads/{id}/copy)."""
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type,
                   checkpoint, metadata)
               SELECT %s, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
                   jsonb_set(metadata, '{thread_id}', to_jsonb(%s::text))
               FROM checkpoints WHERE thread_id = %s""",
            [target_id, target_id, source_id],
        )
        cur.execute(
            """INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
               SELECT %s, checkpoint_ns, channel, version, type, blob
               FROM checkpoint_blobs WHERE thread_id = %s""",
            [target_id, source_id],
        )
        cur.execute(
            """INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel,
                   type, blob, task_path)
               SELECT %s, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path
               FROM checkpoint_writes WHERE thread_id = %s""",
            [target_id, source_id],
        )


def copy_store_namespace(*, source_prefix: str, target_prefix: str) -> None:
    """Duplicate the store items of one on-disk namespace (its `prefix` column) under another."""
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO store (prefix, key, value, created_at, updated_at, expires_at, ttl_minutes)
               SELECT %s, key, value, created_at, updated_at, expires_at, ttl_minutes
               FROM store WHERE prefix = %s""",
            [target_prefix, source_prefix],
        )


def keep_latest(*, thread_id: str) -> None:
    """Prune a thread's history to its newest checkpoint per namespace (TTL/prune `keep_latest`)."""
    with connection.cursor() as cur:
        cur.execute(
            """DELETE FROM checkpoints c WHERE thread_id = %(t)s AND checkpoint_id <> (
                   SELECT max(checkpoint_id) FROM checkpoints m
                   WHERE m.thread_id = c.thread_id AND m.checkpoint_ns = c.checkpoint_ns)""",
            {"t": thread_id},
        )
        cur.execute(
            """DELETE FROM checkpoint_writes w WHERE thread_id = %(t)s AND NOT EXISTS (
                   SELECT 1 FROM checkpoints c WHERE c.thread_id = w.thread_id
                   AND c.checkpoint_ns = w.checkpoint_ns AND c.checkpoint_id = w.checkpoint_id)""",
            {"t": thread_id},
        )


def patch_head_metadata(*, thread_id: str, metadata: dict[str, Any]) -> bool:
    """Merge `metadata` into the metadata of the thread's newest root checkpoint (PATCH .../state).
    Returns False when the thread has no checkpoint."""
    with connection.cursor() as cur:
        cur.execute(
            """UPDATE checkpoints SET metadata = metadata || %(m)s::jsonb
               WHERE thread_id = %(t)s AND checkpoint_ns = '' AND checkpoint_id = (
                   SELECT max(checkpoint_id) FROM checkpoints
                   WHERE thread_id = %(t)s AND checkpoint_ns = '')""",
            {"t": thread_id, "m": json.dumps(metadata)},
        )
        return bool(cur.rowcount)
