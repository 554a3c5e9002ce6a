"""Writes on the store (§1.7). Who may write where is decided by `selectors.store.namespace_access`."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.store.base import NOT_PROVIDED, NotProvided
from langgraph.store.postgres import PostgresStore

from atrium.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from atrium.core.metadata_filter import filter_matches
from atrium.core.tenancy import current_scope
from atrium.runtime.db import conninfo
from atrium.runtime.selectors.store import (
    NamespaceAccess,
    handler_filter,
    item_allowed,
    namespace_access,
    tenant_store,
)
from atrium.runtime.services.threads import MAX_TTL_MINUTES
from atrium.runtime.tenant_store import TenantStore

RESERVED_ROOT = "langgraph"


def _writable(namespace: tuple[str, ...], *, hide_unreadable: bool) -> NamespaceAccess:
    """Raise unless the caller may write here: 404 where the namespace is not theirs to know of, 403
    where they may see it but not change it."""
    access = namespace_access(namespace, scope=current_scope())
    if access.foreign or (hide_unreadable and not access.read):
        raise NotFoundError("Namespace not found.")
    if not access.write:
        if access.written_by:
            raise PermissionDeniedError(
                f"This namespace is read-only here; it is written by {access.written_by}."
            )
        raise PermissionDeniedError("You may not write to this namespace.")
    return access


async def store_item_put(
    *,
    namespace: tuple[str, ...],
    key: str,
    value: dict[str, Any],
    index: Literal[False] | list[str] | None = None,
    ttl: float | None = None,
) -> None:
    """Create or replace an item. `ttl` is in minutes; a store without TTL support ignores it."""
    if namespace[0] == RESERVED_ROOT:
        raise ValidationFailedError(f'Invalid namespace: the root label cannot be "{RESERVED_ROOT}".')
    if not key:
        raise ValidationFailedError("key: must not be empty.")
    if ttl is not None and not 0 < ttl <= MAX_TTL_MINUTES:
        raise ValidationFailedError(
            f"ttl: must be a positive number of minutes, at most {MAX_TTL_MINUTES}, or null."
        )
    _writable(namespace, hide_unreadable=False)
    store = await tenant_store()
    # Under a handler's filter a caller may neither replace an item outside it nor write one: the filter
    # says which items are theirs, and a write must stay among them.
    found = handler_filter(current_scope())
    if found is not None and (
        not filter_matches(value, found) or not await _visible_or_missing(store, namespace, key)
    ):
        raise PermissionDeniedError("The authorization handler does not allow this item.")
    ttl_arg: float | NotProvided | None = ttl if ttl is not None and store.supports_ttl else NOT_PROVIDED
    await store.aput(namespace, key, value, index=index, ttl=ttl_arg)


def store_ttl_sweep() -> int:
    """Delete the store items past their TTL (beat); returns how many. Readers already skip them."""
    with PostgresStore.from_conn_string(conninfo()) as store:
        return store.sweep_ttl()


async def store_item_delete(*, namespace: tuple[str, ...], key: str) -> None:
    """Delete an item (deleting a missing key is a no-op, as in the reference)."""
    if not key:
        raise ValidationFailedError("key: must not be empty.")
    _writable(namespace, hide_unreadable=True)
    store = await tenant_store()
    if not await _visible_or_missing(store, namespace, key):
        return  # outside the handler's filter: for this caller the key is missing
    await store.adelete(namespace, key)


async def _visible_or_missing(store: TenantStore, namespace: tuple[str, ...], key: str) -> bool:
    scope = current_scope()
    if handler_filter(scope) is None:
        return True
    item = await store.aget(namespace, key)
    return item is None or item_allowed(item, scope=scope)
