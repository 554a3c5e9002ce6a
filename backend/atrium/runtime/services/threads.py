"""Writes on threads (the sync part; state reads and updates through the graph are in state_access)."""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from atrium.core.errors import AtriumError, ConflictError, NotFoundError
from atrium.core.tenancy import Permission, current_scope
from atrium.runtime import checkpoints
from atrium.runtime.db import prepared_cursor
from atrium.runtime.models import ACTIVE_RUN_STATUSES, Run, Thread
from atrium.runtime.selectors.threads import as_uuid, thread_get, thread_queryset
from atrium.runtime.services.sandboxes import thread_config_new_generation
from atrium.runtime.services.uploads import thread_copy_files_check, thread_uploads_on_disk, uploads_on_disk

TTL_STRATEGIES = ("delete", "keep_latest")


# A century: past it, a TTL is a typo (and past ~10^12 minutes, not a representable date).
MAX_TTL_MINUTES = 100 * 365 * 24 * 60


def _ttl_fields(ttl: dict[str, Any] | float | None) -> dict[str, Any]:
    if ttl is None:
        return {}
    if isinstance(ttl, int | float):
        ttl = {"ttl": ttl, "strategy": "delete"}
    minutes = ttl.get("ttl")
    strategy = ttl.get("strategy") or "delete"
    if strategy not in TTL_STRATEGIES:
        raise AtriumError(f"ttl.strategy must be one of {list(TTL_STRATEGIES)}.", code="invalid_ttl")
    if minutes is None:
        return {"ttl_minutes": None, "ttl_strategy": "", "expires_at": None}
    if not isinstance(minutes, int | float) or not 0 < minutes <= MAX_TTL_MINUTES:
        raise AtriumError(
            f"ttl.ttl must be a positive number of minutes, at most {MAX_TTL_MINUTES}.", code="invalid_ttl"
        )
    return {
        "ttl_minutes": float(minutes),
        "ttl_strategy": strategy,
        "expires_at": timezone.now() + timedelta(minutes=float(minutes)),
    }


def thread_create(
    *,
    thread_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | None = None,
    if_exists: str = "raise",
    ttl: dict[str, Any] | float | None = None,
) -> tuple[Thread, bool]:
    """Create a thread owned by the caller. Returns (thread, created)."""
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    metadata = dict(metadata or {})
    if thread_id is not None:
        existing = thread_queryset().filter(id=thread_id).first()
        if existing is not None:
            if if_exists == "do_nothing":
                return existing, False
            raise ConflictError(f"Thread with ID {thread_id} already exists.", code="thread_exists")
    graph_id = metadata.get("graph_id") if isinstance(metadata.get("graph_id"), str) else ""
    thread = Thread(
        id=thread_id or uuid.uuid4(),
        org_id=scope.org,
        owner_id=scope.user_id,
        metadata=metadata,
        graph_id=graph_id or "",
        config=thread_config_new_generation(),
        **_ttl_fields(ttl),
    )
    try:
        if (
            connection.in_atomic_block
        ):  # a savepoint, so a duplicate id leaves the caller's transaction usable
            with transaction.atomic():
                _insert(thread)
        else:  # one statement is its own transaction
            _insert(thread)
    except IntegrityError:
        # Taken by a thread the caller cannot see: same answer as a visible duplicate, no more.
        raise ConflictError(f"Thread with ID {thread_id} already exists.", code="thread_exists") from None
    return thread, True


@functools.cache
def _insert_sql() -> str:
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in Thread._meta.concrete_fields)
    values = ", ".join(["%s"] * len(Thread._meta.concrete_fields))
    return f"INSERT INTO {Thread._meta.db_table} ({columns}) VALUES ({values})"  # noqa: S608 - model metadata


def _insert(thread: Thread) -> None:
    """Save a new thread in one prepared statement: `create()` spent more of the request's CPU in the
    ORM than the rest of the request (every run of the benchmark's clients starts with a new thread)."""
    thread.created_at = thread.updated_at = timezone.now()  # auto_now_add / auto_now
    params = [
        f.get_db_prep_save(getattr(thread, f.attname), connection) for f in Thread._meta.concrete_fields
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_insert_sql(), params)
    thread._state.adding = False
    thread._state.db = connection.alias


def thread_update(
    *, thread_id: str | uuid.UUID, metadata: dict[str, Any] | None = None, ttl: Any = None
) -> Thread:
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    with transaction.atomic():
        thread = thread_queryset().select_for_update().filter(id=as_uuid(thread_id)).first()
        if thread is None:
            raise NotFoundError(f"Thread with ID {thread_id} not found")
        fields = ["updated_at"]
        if metadata:
            thread.metadata = {**thread.metadata, **metadata}
            fields.append("metadata")
        for key, value in _ttl_fields(ttl).items():
            setattr(thread, key, value)
            fields.append(key)
        thread.save(update_fields=fields)
    return thread


def thread_delete(*, thread_id: str | uuid.UUID) -> None:
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    with transaction.atomic():
        thread = thread_get(thread_id=thread_id)
        active = list(
            Run.objects.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES).values_list("id", flat=True)
        )
        checkpoints.delete_thread(thread_id=str(thread.id), uploads_prefix=thread_uploads_on_disk(thread))
        thread.delete()
    if active:
        from atrium.runtime import dispatch

        def stop_runs() -> None:
            for run_id in active:
                dispatch.send_control(str(run_id), "interrupt")

        transaction.on_commit(stop_runs, robust=True)


def thread_state_patch(*, thread_id: str | uuid.UUID, metadata: dict[str, Any]) -> None:
    """Merge metadata into the head checkpoint's metadata (JS `patchState`)."""
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    thread = thread_get(thread_id=thread_id)
    if not checkpoints.patch_head_metadata(thread_id=str(thread.id), metadata=metadata):
        raise NotFoundError(f"Thread {thread_id} has no state yet.")


def thread_copy(*, thread_id: str | uuid.UUID) -> Thread:
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    source = thread_get(thread_id=thread_id)
    with transaction.atomic():
        copy = Thread.objects.create(
            org_id=scope.org,
            owner_id=scope.user_id,
            metadata=source.metadata,
            config=thread_config_new_generation(source.config),
            values=source.values,
            next=source.next,
            interrupts=source.interrupts,
            status=source.status if source.status != "busy" else "idle",
            graph_id=source.graph_id,
            assistant_id=source.assistant_id,
            state_updated_at=source.state_updated_at,
        )
        checkpoints.copy_thread(source_id=str(source.id), target_id=str(copy.id))
        # The files attached to the thread go with it, to the copy's owner: only when that is their
        # owner too, as no one else may read them (an org admin's copy of another's thread has none).
        if source.owner_id is not None and source.owner_id == scope.user_id:
            files = uploads_on_disk(org_id=str(scope.org), owner_id=source.owner_id, thread_id=str(source.id))
            thread_copy_files_check(org_id=str(scope.org), owner_id=source.owner_id, source_prefix=files)
            checkpoints.copy_store_namespace(
                source_prefix=files,
                target_prefix=uploads_on_disk(
                    org_id=str(scope.org), owner_id=source.owner_id, thread_id=str(copy.id)
                ),
            )
    return copy


def thread_prune(*, thread_ids: list[str], strategy: str) -> int:
    scope = current_scope()
    scope.require(Permission.USE_AGENTS)
    if strategy not in TTL_STRATEGIES:
        raise AtriumError(f"strategy must be one of {list(TTL_STRATEGIES)}.", code="invalid_strategy")
    count = 0
    for thread_id in thread_ids:
        thread = thread_queryset().filter(id=as_uuid(thread_id)).first()
        if thread is None:
            continue
        if strategy == "delete":
            thread_delete(thread_id=thread.id)
        else:
            checkpoints.keep_latest(thread_id=str(thread.id))
        count += 1
    return count


def thread_record_state(
    *, thread_id: str, values: Any, next_nodes: list[str], interrupts: dict[str, Any]
) -> None:
    """Cache the head state after a state update made outside a run."""
    now = timezone.now()
    Thread.objects.filter(id=as_uuid(thread_id)).exclude(status="busy").update(
        values=values,
        next=next_nodes,
        interrupts=interrupts,
        state_updated_at=now,
        updated_at=now,
        status="interrupted" if (next_nodes or interrupts) else "idle",
    )
