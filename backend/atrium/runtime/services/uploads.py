"""Files an end user attaches to one of their threads, for its agent to read.

They go to the store at ``("uploads", <thread id>)``, a namespace outside ``("org", …)``: the tenant
store keeps it in the thread owner's private partition, so only the owner's requests and runs reach
it, and the deep agent reads it under ``/uploads/`` (atrium_agents.deep_agent.memory). Items have the
deepagents file shape (``content``, ``encoding``, timestamps): text endings are stored as UTF-8 text,
the other accepted endings as base64. Every file of a request is checked before any is written, and so
are the thread's totals (number of files, bytes), under a per-thread lock so two requests cannot both
pass them. The store API cannot write the namespace (selectors.store), so these are the only writes.
"""

from __future__ import annotations

import asyncio
import base64
import posixpath
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from langgraph.store.base import PutOp, SearchItem
from psycopg import AsyncConnection
from psycopg.rows import tuple_row

from atrium.core.errors import AtriumError, ConflictError, NotFoundError, ValidationFailedError
from atrium.core.tenancy import Permission, Scope, current_scope
from atrium.runtime.adapters.langgraph_store import postgres_store
from atrium.runtime.db import with_live_connection
from atrium.runtime.models import Thread
from atrium.runtime.persistence import persistence, store_ttl_config
from atrium.runtime.selectors.store import UPLOADS_LABEL, tenant_store
from atrium.runtime.selectors.threads import thread_get_owned
from atrium.runtime.tenant_store import TenantStore, private_partition

UPLOADS_DIR = "/uploads/"
MAX_NAME_LENGTH = 200
# How long an upload waits for another upload to the same thread to be stored (409 after), and how
# often it tries the lock meanwhile.
LOCK_WAIT_SECONDS = 5
LOCK_RETRY_SECONDS = 0.1


class FileTooLargeError(AtriumError):
    status_code = 413
    code = "file_too_large"


class UnsupportedFileTypeError(AtriumError):
    status_code = 415
    code = "unsupported_file_type"


class ThreadUploadsFullError(AtriumError):
    status_code = 413
    code = "thread_uploads_full"


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


@dataclass(frozen=True)
class StoredUpload:
    path: str  # as the agent sees it
    name: str
    size: int
    encoding: str


def uploads_namespace(thread_id: str) -> tuple[str, ...]:
    return (UPLOADS_LABEL, thread_id)


def uploads_on_disk(*, org_id: str, owner_id: int | str, thread_id: str) -> str:
    """The store's `prefix` of a thread's files: its namespace in the owner's private partition."""
    return ".".join((*private_partition(org_id, owner_id), *uploads_namespace(thread_id)))


def thread_uploads_on_disk(thread: Thread) -> str | None:
    """Where `thread`'s files are (`uploads_on_disk`), or None when it has no owner to hold them."""
    if thread.owner_id is None:
        return None
    return uploads_on_disk(org_id=str(thread.org_id), owner_id=thread.owner_id, thread_id=str(thread.id))


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _checked(upload: Upload) -> tuple[str, str]:
    """(stored content, encoding) of a file that passes every limit; raises on the first that fails."""
    name = upload.name
    if (
        not name
        or len(name) > MAX_NAME_LENGTH
        or name != posixpath.basename(name)
        or name.startswith(".")
        or "\\" in name
        or any(ord(char) < 32 for char in name)
    ):
        raise ValidationFailedError(
            f"File name {name[:MAX_NAME_LENGTH]!r}: a plain name of at most {MAX_NAME_LENGTH} characters, "
            "without folders or a leading dot.",
            code="invalid_file_name",
        )
    limit: int = settings.ATRIUM_UPLOAD_MAX_BYTES
    if len(upload.content) > limit:
        raise FileTooLargeError(
            f"{name} is {len(upload.content)} bytes, over the limit of {limit} (ATRIUM_UPLOAD_MAX_BYTES)."
        )
    extension = _extension(name)
    if extension in settings.ATRIUM_UPLOAD_TEXT_TYPES:
        try:
            text = upload.content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailedError(f"{name} is not UTF-8 text.", code="invalid_text_file") from None
        if "\x00" in text:
            raise ValidationFailedError(f"{name} contains a NUL character.", code="invalid_text_file")
        return text, "utf-8"
    if extension in settings.ATRIUM_UPLOAD_BINARY_TYPES:
        return base64.b64encode(upload.content).decode(), "base64"
    accepted = ", ".join([*settings.ATRIUM_UPLOAD_TEXT_TYPES, *settings.ATRIUM_UPLOAD_BINARY_TYPES])
    raise UnsupportedFileTypeError(f"{name}: files of this type are not accepted (accepted: {accepted}).")


# More than the thread may hold, so a listing sees every file even if the limits were lowered since.
_SCAN = 10_000


def _stored(items: list[SearchItem]) -> list[StoredUpload]:
    found = []
    for item in items:
        name = item.key.lstrip("/")
        content = str(item.value.get("content") or "")
        encoding = str(item.value.get("encoding") or "utf-8")
        size = len(base64.b64decode(content)) if encoding == "base64" else len(content.encode())
        found.append(StoredUpload(f"{UPLOADS_DIR}{name}", name, size, encoding))
    return sorted(found, key=lambda upload: upload.name)


def _check_thread_totals(sizes: dict[str, int]) -> None:
    """Raise unless the thread's files after the upload (name -> bytes) stay within its limits."""
    max_files: int = settings.ATRIUM_UPLOAD_MAX_FILES
    if len(sizes) > max_files:
        raise ThreadUploadsFullError(
            f"A thread holds at most {max_files} files (ATRIUM_UPLOAD_MAX_FILES); "
            f"this upload would make {len(sizes)}."
        )
    max_bytes: int = settings.ATRIUM_UPLOAD_MAX_THREAD_BYTES
    total = sum(sizes.values())
    if total > max_bytes:
        raise ThreadUploadsFullError(
            f"A thread's files hold at most {max_bytes} bytes (ATRIUM_UPLOAD_MAX_THREAD_BYTES); "
            f"this upload would make {total}."
        )


# A stored file's bytes (base64 files decoded), and whether it is live, in SQL: sizes are counted by
# Postgres, so the files themselves (up to a member's limit in bytes) stay in the database.
_FILE_BYTES = (
    "CASE WHEN value->>'encoding' = 'base64' THEN length(decode(value->>'content', 'base64'))"
    " ELSE octet_length(value->>'content') END"
)
_LIVE = "(expires_at IS NULL OR expires_at > now())"
_MEMBER_BYTES_SQL = (
    f"SELECT coalesce(sum({_FILE_BYTES}), 0) FROM store WHERE prefix LIKE %s ESCAPE '\\' AND {_LIVE}"  # noqa: S608
)
# Advisory locks by name (per transaction): a thread's (its uploads), and a member's, taken by whatever
# adds to their total (uploads to any of their threads, thread copies) so two cannot both pass it.
_LOCK_KEY = "hashtextextended(%s, 0)"


def _member_key(*, org_id: str, owner_id: int | str) -> str:
    return f"uploads-member:{org_id}:{owner_id}"


def _member_files_like(*, org_id: str, owner_id: int | str) -> str:
    """A LIKE pattern for the store prefixes of every thread's files of one member in one org."""
    start = ".".join((*private_partition(org_id, owner_id), UPLOADS_LABEL, ""))
    return start.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _check_member_total(total: int, *, what: str) -> None:
    limit: int = settings.ATRIUM_UPLOAD_MAX_MEMBER_BYTES
    if limit and total > limit:
        raise ThreadUploadsFullError(
            f"A member's files hold at most {limit} bytes across their threads "
            f"(ATRIUM_UPLOAD_MAX_MEMBER_BYTES); {what} would make {total}."
        )


def thread_copy_files_check(*, org_id: str, owner_id: int | str, source_prefix: str) -> None:
    """In the transaction of a thread copy (Django's connection): refuse it (413) when the copied files
    would take the member past ATRIUM_UPLOAD_MAX_MEMBER_BYTES, holding the member's lock until commit."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT pg_advisory_xact_lock({_LOCK_KEY})",
            [_member_key(org_id=org_id, owner_id=owner_id)],
        )
        cur.execute(_MEMBER_BYTES_SQL, [_member_files_like(org_id=org_id, owner_id=owner_id)])
        total = int(cur.fetchone()[0])
        cur.execute(
            f"SELECT coalesce(sum({_FILE_BYTES}), 0) FROM store WHERE prefix = %s AND {_LIVE}",  # noqa: S608
            [source_prefix],
        )
        copied = int(cur.fetchone()[0])
    if copied:
        _check_member_total(total + copied, what="copying this thread's files")


async def _sizes_stored(conn: AsyncConnection[Any], prefix: str) -> dict[str, int]:
    """The bytes of each live file at the store `prefix` (a thread's uploads)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            f"SELECT key, {_FILE_BYTES} FROM store WHERE prefix = %s AND {_LIVE}",  # noqa: S608
            [prefix],
        )
        return {str(key).lstrip("/"): int(size or 0) for key, size in await cur.fetchall()}


async def _member_bytes(conn: AsyncConnection[Any], *, org_id: str, owner_id: int | str) -> int:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_MEMBER_BYTES_SQL, [_member_files_like(org_id=org_id, owner_id=owner_id)])
        found = await cur.fetchone()
    return int(found[0]) if found is not None else 0


async def _store_checked(
    conn: AsyncConnection[Any],
    scope: Scope,
    thread: Thread,
    uploads: list[Upload],
    checked: list[tuple[Upload, str, str]],
) -> None:
    """Count the thread's files with these and write them, on `conn` holding the thread's lock."""
    store = TenantStore(postgres_store(conn, ttl=store_ttl_config()), str(scope.org), scope.user_id)
    prefix = thread_uploads_on_disk(thread)
    if prefix is None:  # the caller's own thread has its owner
        raise NotFoundError(f"Thread with ID {thread.id} not found")
    sizes = await _sizes_stored(conn, prefix)
    before = sum(sizes.values())
    sizes.update({upload.name: len(upload.content) for upload in uploads})  # a same name replaces
    _check_thread_totals(sizes)
    member = await _member_bytes(conn, org_id=str(thread.org_id), owner_id=thread.owner_id or "")
    _check_member_total(member - before + sum(sizes.values()), what="this upload")
    now = datetime.now(UTC).isoformat()
    # One batch: the files of a request are stored together or not at all.
    await store.abatch(
        [
            PutOp(
                uploads_namespace(str(thread.id)),
                f"/{upload.name}",
                {"content": content, "encoding": encoding, "created_at": now, "modified_at": now},
                index=False,
            )
            for upload, content, encoding in checked
        ]
    )


async def thread_files_upload(*, thread_id: str, uploads: list[Upload]) -> list[StoredUpload]:
    """Store files in the caller's own thread: 404 for anyone else's thread, org admins included."""
    current_scope().require(Permission.USE_AGENTS)
    thread = await sync_to_async(with_live_connection(thread_get_owned), thread_sensitive=False)(
        thread_id=thread_id
    )
    if not uploads:
        raise ValidationFailedError("Attach at least one file (multipart field `file`).", code="no_file")
    checked = [(upload, *_checked(upload)) for upload in uploads]
    scope = current_scope()
    # One connection and one transaction for the check and the write, under a lock on the thread's
    # uploads: a concurrent upload to the same thread waits, then counts these files too. A waiter
    # holds no pool connection (the pool is every org's): it tries the lock, gives the connection
    # back and tries again, for at most LOCK_WAIT_SECONDS.
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        async with (await persistence()).pool.connection() as conn, conn.transaction():
            async with conn.cursor(row_factory=tuple_row) as cur:
                # The thread's lock, then its owner's (their total across threads); a transaction that
                # gets only the first gives it back when it ends.
                await cur.execute(
                    f"SELECT pg_try_advisory_xact_lock({_LOCK_KEY})"
                    f" AND pg_try_advisory_xact_lock({_LOCK_KEY})",
                    [
                        f"uploads:{thread.id}",
                        _member_key(org_id=str(thread.org_id), owner_id=thread.owner_id or ""),
                    ],
                )
                locked = await cur.fetchone()
            if locked is not None and locked[0]:
                await _store_checked(conn, scope, thread, uploads, checked)
                break
        if time.monotonic() >= deadline:
            raise ConflictError(
                "Another upload to this thread is still being stored; try again.", code="upload_in_progress"
            )
        await asyncio.sleep(LOCK_RETRY_SECONDS)
    return [
        StoredUpload(f"{UPLOADS_DIR}{upload.name}", upload.name, len(upload.content), encoding)
        for upload, _, encoding in checked
    ]


async def thread_files_list(*, thread_id: str) -> list[StoredUpload]:
    """The files attached to the caller's own thread, by name."""
    thread = await sync_to_async(with_live_connection(thread_get_owned), thread_sensitive=False)(
        thread_id=thread_id
    )
    store = await tenant_store()
    return _stored(await store.asearch(uploads_namespace(str(thread.id)), limit=_SCAN))


async def thread_file_read(*, thread_id: str, name: str) -> bytes:
    """The bytes of one file attached to the caller's own thread; 404 for anything else."""
    thread = await sync_to_async(with_live_connection(thread_get_owned), thread_sensitive=False)(
        thread_id=thread_id
    )
    store = await tenant_store()
    item = await store.aget(uploads_namespace(str(thread.id)), f"/{name}") if "/" not in name else None
    if item is None:
        raise NotFoundError(f"File {name} not found.")
    content = str(item.value.get("content") or "")
    return base64.b64decode(content) if item.value.get("encoding") == "base64" else content.encode()
