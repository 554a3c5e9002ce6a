"""Reads on the store (cross-thread memory, §1.7), and the one rule saying who may touch a namespace.

The namespaces follow the deep agent's memory layout (atrium_agents/deep_agent/memory.py); anything
outside `("org", ...)` is private to the user who writes it (ADR 0018):

| namespace                                     | read                        | write (permission)       |
|-----------------------------------------------|-----------------------------|--------------------------|
| anything not starting with `"org"`            | the user who wrote it, only | that user (use_agents)   |
| `("uploads", <thread id>)`, private as above  | the thread's owner, only    | nobody: …/threads/{id}/files |
| `("org", <this org>, "user", <user id>, ...)` | that user; the org's admins | that user (use_agents)   |
| `("org", <this org>, "assistant", <id>, ...)` | members (read)              | configure_agents         |
| `("org", <this org>, ["assistant", <id>,] "skills", ...)` | members (read)  | nobody: /api/v1 …/skills |
| `("org", <this org>, ...)` otherwise          | members (read)              | admins (manage_org)      |
| `("org", <another org, or none>, ...)`        | nobody: absent (404)        | nobody: absent (404)     |

Every read and write goes through `TenantStore`, which prefixes each namespace on disk with the caller's
org and, for a private one, the caller's user: those prefixes are the isolation boundaries between orgs
and between users, for the API and graphs alike (another user's private items cannot even be named).
The `("org", <id>)` labels are the agent's convention inside the org's shared partition, and a namespace
naming another org is refused rather than trusted. A scope without a user has no private namespaces.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from langgraph.store.base import Item, SearchItem

from atrium.core.errors import NotFoundError, ValidationFailedError
from atrium.core.metadata_filter import filter_matches
from atrium.core.tenancy import Permission, Scope, current_scope
from atrium.runtime.persistence import persistence
from atrium.runtime.tenant_store import ORG_LABEL, WILDCARD, TenantStore

USER_LABEL = "user"
ASSISTANT_LABEL = "assistant"
# Skills are written only by the control plane (atrium.skills), which checks each one whole and keeps
# the rows the store's copy mirrors; a raw store write would bypass both.
SKILLS_LABEL = "skills"
# Files attached to a thread are written only by services/uploads.py, which checks their names, types,
# sizes and the thread's totals; a raw store write would bypass every one.
UPLOADS_LABEL = "uploads"
# Search and namespace listing filter rows one by one where a prefix spans namespaces of mixed
# visibility; they read the store in pages of SCAN_PAGE rows and stop after SCAN_LIMIT rows.
SCAN_PAGE = 200
SCAN_LIMIT = 10_000

T = TypeVar("T")
Visibility = Literal["all", "none", "some"]


@dataclass(frozen=True)
class NamespaceAccess:
    read: bool
    write: bool
    foreign: bool = False  # names another org: answer as if it did not exist
    written_by: str = ""  # where a namespace no one writes here is written instead, for the refusal


FOREIGN = NamespaceAccess(read=False, write=False, foreign=True)


def namespace_access(namespace: Sequence[str], *, scope: Scope) -> NamespaceAccess:
    """What `scope` may do in `namespace`: the only place the store's access rule lives.

    Fails closed: a scope without an organisation raises, and a role-less scope gets nothing.
    """
    org_id = str(scope.org)
    if not namespace or namespace[0] != ORG_LABEL:  # the caller's own private partition, if they are a user
        has_user = scope.user_id is not None
        read = has_user and scope.has(Permission.READ)
        if namespace and namespace[0] == UPLOADS_LABEL:
            return NamespaceAccess(read=read, write=False, written_by="POST /agent/threads/{thread_id}/files")
        return NamespaceAccess(read=read, write=has_user and scope.has(Permission.USE_AGENTS))
    if len(namespace) < 2 or namespace[1] != org_id:
        return FOREIGN
    rest = namespace[2:]
    if len(rest) >= 2 and rest[0] == USER_LABEL:
        own = scope.user_id is not None and rest[1] == str(scope.user_id)
        return NamespaceAccess(
            read=(own and scope.has(Permission.READ)) or scope.has(Permission.MANAGE_ORG),
            write=own and scope.has(Permission.USE_AGENTS),
        )
    if tuple(rest[:1]) == (SKILLS_LABEL,) or (
        len(rest) >= 3 and rest[0] == ASSISTANT_LABEL and rest[2] == SKILLS_LABEL
    ):
        return NamespaceAccess(read=scope.has(Permission.READ), write=False)
    if len(rest) >= 2 and rest[0] == ASSISTANT_LABEL:
        return NamespaceAccess(read=scope.has(Permission.READ), write=scope.has(Permission.CONFIGURE_AGENTS))
    return NamespaceAccess(read=scope.has(Permission.READ), write=scope.has(Permission.MANAGE_ORG))


def subtree_visibility(prefix: Sequence[str], *, scope: Scope) -> Visibility:
    """Whether every namespace under `prefix` is readable by `scope`, none is, or it depends on which.

    Readability only varies across partitions (private or `"org"`), orgs (`("org", <id>)`) and users
    (`(..., "user", <id>)`), so a prefix that fixes all three is uniform. A listing's `*` label matches
    any label, so a prefix holding one fixes nothing after it.
    """
    if not scope.has(Permission.READ):
        return "none"
    org_id = str(scope.org)
    if not prefix or tuple(prefix) == (ORG_LABEL,) or WILDCARD in prefix[:4]:
        return "some"
    if prefix[0] != ORG_LABEL:
        return "all" if scope.user_id is not None else "none"
    if prefix[1] != org_id:
        return "none"
    if len(prefix) == 2 or (len(prefix) == 3 and prefix[2] == USER_LABEL):
        return "all" if scope.has(Permission.MANAGE_ORG) else "some"
    return "all" if namespace_access(prefix, scope=scope).read else "none"


def validate_namespace(
    labels: Sequence[Any], *, allow_empty: bool = False, what: str = "namespace"
) -> tuple[str, ...]:
    """A namespace as the store takes it, or a 422 naming what is wrong (the SDKs check the same)."""
    namespace = tuple(labels)
    if not namespace and not allow_empty:
        raise ValidationFailedError(f"Invalid {what}: it cannot be empty.")
    for label in namespace:
        if not isinstance(label, str) or not label:
            raise ValidationFailedError(
                f"Invalid {what} {list(namespace)}: labels must be non-empty strings."
            )
        if "." in label:
            raise ValidationFailedError(
                f"Invalid {what} label '{label}': namespace labels cannot contain periods ('.')."
            )
        if "\x00" in label:
            raise ValidationFailedError(f"Invalid {what} label {label!r}: NUL characters are not allowed.")
    return namespace


async def tenant_store() -> TenantStore:
    """The store as the current caller sees it: their org's, and their own private partition."""
    scope = current_scope()
    return TenantStore((await persistence()).store, str(scope.org), scope.user_id)


STORE_RESOURCE = "store"


def handler_filter(scope: Scope) -> Mapping[str, Any] | None:
    """The filter an authorization handler (`@auth.on.store`) returned for this request, if any: an item
    whose value does not match it is, for this request, not there (custom_auth.py)."""
    narrowing = scope.narrowing
    return narrowing.filter if narrowing is not None and narrowing.resource == STORE_RESOURCE else None


def item_allowed(item: Item, *, scope: Scope) -> bool:
    """Whether the caller may see `item`: its namespace is readable and it matches any handler filter."""
    found = handler_filter(scope)
    return namespace_access(item.namespace, scope=scope).read and (
        found is None or filter_matches(item.value, found)
    )


async def store_item_get(
    *, namespace: tuple[str, ...], key: str, refresh_ttl: bool | None = None
) -> Item | None:
    """The item, or None when the key is missing. A namespace the caller may not read is a 404."""
    scope = current_scope()
    if not namespace_access(namespace, scope=scope).read:
        raise NotFoundError("Namespace not found.")
    store = await tenant_store()
    item = await store.aget(namespace, key, refresh_ttl=refresh_ttl)
    return item if item is not None and item_allowed(item, scope=scope) else None


FILTER_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


def _check_filter(value_filter: dict[str, Any] | None) -> None:
    """The store's filter takes a value or an `{operator: value}` object per field."""
    for field, condition in (value_filter or {}).items():
        if isinstance(condition, dict):
            for operator in condition:
                if operator not in FILTER_OPERATORS:
                    raise ValidationFailedError(
                        f"filter.{field}: unsupported operator {operator!r}; "
                        f"use one of {list(FILTER_OPERATORS)}."
                    )


def _narrowed(visibility: Visibility, scope: Scope) -> Visibility:
    """A handler filter hides rows the store cannot tell apart: page by scanning, as for mixed namespaces."""
    return "some" if visibility == "all" and handler_filter(scope) is not None else visibility


async def store_item_search(
    *,
    namespace_prefix: tuple[str, ...],
    value_filter: dict[str, Any] | None = None,
    limit: int = 10,
    offset: int = 0,
    query: str | None = None,
    refresh_ttl: bool | None = None,
) -> list[SearchItem]:
    """Items under a prefix, without those the caller may not read (they are simply not there).

    `value_filter` matches on the item's value (the wire's `filter`: exact values or `$eq`-style operators);
    a handler's filter is applied on top of it.
    """
    _check_filter(value_filter)
    scope = current_scope()
    visibility = _narrowed(subtree_visibility(namespace_prefix, scope=scope), scope)
    if visibility == "none":
        return []
    store = await tenant_store()

    async def fetch(start: int, size: int) -> list[SearchItem]:
        return await store.asearch(
            namespace_prefix,
            query=query,
            filter=value_filter,
            limit=size,
            offset=start,
            refresh_ttl=refresh_ttl,
        )

    async def keep(items: list[SearchItem]) -> list[SearchItem]:
        return [item for item in items if item_allowed(item, scope=scope)]

    return await _visible_page(fetch, visibility, keep, offset, limit)


async def store_namespace_list(
    *,
    prefix: tuple[str, ...] | None = None,
    suffix: tuple[str, ...] | None = None,
    max_depth: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[str, ...]]:
    """Namespaces the caller may read (after `max_depth` truncation, so a deeper one stays hidden).

    Under a handler's filter, a namespace is listed only where an item below it matches the filter.
    """
    scope = current_scope()
    visibility = _narrowed(subtree_visibility(prefix or (), scope=scope), scope)
    if visibility == "none":
        return []
    store = await tenant_store()
    found = handler_filter(scope)

    async def fetch(start: int, size: int) -> list[tuple[str, ...]]:
        return await store.alist_namespaces(
            prefix=prefix, suffix=suffix, max_depth=max_depth, limit=size, offset=start
        )

    async def holds_a_match(namespace: tuple[str, ...]) -> bool:
        start = 0
        while start < SCAN_LIMIT:
            items = await store.asearch(namespace, limit=SCAN_PAGE, offset=start)
            if any(item_allowed(item, scope=scope) for item in items):
                return True
            if len(items) < SCAN_PAGE:
                return False
            start += SCAN_PAGE
        return False

    async def keep(namespaces: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        readable = [namespace for namespace in namespaces if namespace_access(namespace, scope=scope).read]
        if found is None:
            return readable
        return [namespace for namespace in readable if await holds_a_match(namespace)]

    return await _visible_page(fetch, visibility, keep, offset, limit)


async def _visible_page(
    fetch: Callable[[int, int], Awaitable[list[T]]],
    visibility: Visibility,
    keep: Callable[[list[T]], Awaitable[list[T]]],
    offset: int,
    limit: int,
) -> list[T]:
    """The `[offset, offset + limit)` window of the rows the caller may see (`keep` filters a page).

    Where everything under the prefix is visible the store pages itself; otherwise rows are read from
    the start and filtered here, so offsets count visible rows only and hidden ones leave no gap.
    """
    if visibility == "all":
        return await keep(await fetch(offset, limit))
    wanted = offset + limit
    kept: list[T] = []
    start = 0
    while len(kept) < wanted and start < SCAN_LIMIT:
        rows = await fetch(start, SCAN_PAGE)
        kept.extend(await keep(rows))
        if len(rows) < SCAN_PAGE:
            break
        start += SCAN_PAGE
    return kept[offset:wanted]
