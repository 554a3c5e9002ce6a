"""A store view confined to one organisation and, outside its shared namespaces, to one user.

Graphs and the store API see namespaces as clients write them; on disk each is prefixed:

| namespace as written             | on disk                                   | who reaches it           |
|----------------------------------|-------------------------------------------|--------------------------|
| `("org", ...)`                   | `("org:<org id>", "org", ...)`            | the org (its rules)      |
| anything else, `("memories", x)` | `("org:<org id>", "user:<user id>", ...)` | that user only           |

A graph run for one org therefore cannot read or list another org's items whatever namespace it asks
for, and a graph run by one user cannot reach another user's private items (a `("memories", <alice>)`
asked for by bob is bob's own `("memories", <alice>)`). A view without a user (`user_id=None`) has no
private partition: reads there find nothing and writes raise `PermissionError`.

A search or namespace listing whose prefix spans both partitions (the empty prefix, or a listing
prefix starting with the `*` wildcard) runs one query per partition and merges them in the store's own
order (score then `updated_at` newest first; namespaces by their text), so `limit`/`offset` count the
merged rows.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

ORG_LABEL = "org"
WILDCARD = "*"

Namespace: TypeAlias = tuple[str, ...]
# One caller op as the inner store runs it: the inner ops, and how to turn their results into one.
Plan: TypeAlias = tuple[list[Op], Callable[[list[Result]], Result]]


def private_partition(org_id: str, user_id: int | str) -> Namespace:
    """Where one user's private namespaces live on disk: the labels before their own."""
    return (f"org:{org_id}", f"user:{user_id}")


class TenantStore(BaseStore):
    def __init__(self, inner: BaseStore, org_id: str, user_id: int | str | None) -> None:
        self._inner = inner
        self._org: Namespace = (f"org:{org_id}",)
        self._private: Namespace | None = private_partition(org_id, user_id) if user_id is not None else None

    @property
    def supports_ttl(self) -> bool:  # type: ignore[override]
        return bool(getattr(self._inner, "supports_ttl", False))

    @property
    def ttl_config(self) -> TTLConfig | None:  # type: ignore[override]
        # BaseStore applies the default TTL and refresh-on-read from its own config: the inner store's.
        return getattr(self._inner, "ttl_config", None)

    # -- namespaces --------------------------------------------------------------------------------

    def _on_disk(self, namespace: Namespace) -> Namespace | None:
        """Where `namespace` lives; None for a private one when there is no user."""
        if namespace and namespace[0] == ORG_LABEL:
            return self._org + namespace
        return self._private + namespace if self._private is not None else None

    def _as_written(self, namespace: Sequence[str]) -> Namespace | None:
        found = tuple(namespace)
        if self._private is not None and found[: len(self._private)] == self._private:
            return found[len(self._private) :]
        if found[: len(self._org)] == self._org and found[len(self._org) : len(self._org) + 1] == (
            ORG_LABEL,
        ):
            return found[len(self._org) :]
        return None  # outside this view (cannot come back from a prefixed query; dropped if it did)

    def _prefixes(self, prefix: Namespace, *, wildcard: bool) -> list[Namespace]:
        """The on-disk prefixes covering the caller's `prefix`: one per partition it spans."""
        spans_both = not prefix or (wildcard and prefix[0] == WILDCARD)
        if not spans_both:
            found = self._on_disk(prefix)
            return [found] if found is not None else []
        shared = (*self._org, ORG_LABEL, *prefix[1:])
        return [shared] if self._private is None else [self._private + prefix, shared]

    # -- results -----------------------------------------------------------------------------------

    def _item(self, result: Any) -> Any:
        if not isinstance(result, Item):
            return result
        namespace = self._as_written(result.namespace)
        if namespace is None:
            return None
        if isinstance(result, SearchItem):
            return SearchItem(
                namespace=namespace,
                key=result.key,
                value=result.value,
                created_at=result.created_at,
                updated_at=result.updated_at,
                score=result.score,
            )
        return Item(
            namespace=namespace,
            key=result.key,
            value=result.value,
            created_at=result.created_at,
            updated_at=result.updated_at,
        )

    def _items(self, results: list[Any], offset: int, limit: int) -> list[SearchItem]:
        lists = [[item for item in map(self._item, result or []) if item is not None] for result in results]
        if len(lists) <= 1:
            return lists[0] if lists else []
        return list(heapq.merge(*lists, key=_search_order))[offset : offset + limit]

    def _namespaces(self, results: list[Any], offset: int, limit: int) -> list[Namespace]:
        lists = [
            [ns for ns in (self._as_written(found) for found in result or []) if ns is not None]
            for result in results
        ]
        if len(lists) <= 1:
            return lists[0] if lists else []
        return list(heapq.merge(*lists, key=".".join))[offset : offset + limit]

    # -- operations --------------------------------------------------------------------------------

    def _plan(self, op: Op) -> Plan:
        if isinstance(op, GetOp):
            disk = self._on_disk(op.namespace)
            if disk is None:
                return [], lambda _: None
            return [op._replace(namespace=disk)], lambda results: self._item(results[0])
        if isinstance(op, PutOp):
            disk = self._on_disk(op.namespace)
            if disk is None:
                raise PermissionError("Private store namespaces need a user: this run or caller has none.")
            return [op._replace(namespace=disk)], lambda results: None
        if isinstance(op, SearchOp):
            prefixes = self._prefixes(op.namespace_prefix, wildcard=False)
            # Across partitions, each one's first offset + limit rows hold the merged window's rows.
            many = len(prefixes) > 1
            searches: list[Op] = [
                op._replace(
                    namespace_prefix=p,
                    offset=0 if many else op.offset,
                    limit=op.offset + op.limit if many else op.limit,
                )
                for p in prefixes
            ]
            return searches, lambda results: self._items(results, op.offset, op.limit)
        if isinstance(op, ListNamespacesOp):
            conditions = list(op.match_conditions or ())
            given = [c for c in conditions if c.match_type == "prefix"]
            others = [c for c in conditions if c.match_type != "prefix"]
            prefixes = self._prefixes(tuple(given[0].path) if given else (), wildcard=True)
            many = len(prefixes) > 1

            def inner(path: Namespace) -> Op:
                # A caller's depth n is n plus the partition labels on disk.
                shared = path[len(self._org) : len(self._org) + 1] == (ORG_LABEL,)
                extra = len(self._org) if shared else len(self._private or ())
                return op._replace(
                    match_conditions=(MatchCondition(match_type="prefix", path=path), *others),
                    max_depth=op.max_depth + extra if op.max_depth is not None else None,
                    offset=0 if many else op.offset,
                    limit=op.offset + op.limit if many else op.limit,
                )

            listings: list[Op] = [inner(p) for p in prefixes]
            return listings, lambda results: self._namespaces(results, op.offset, op.limit)
        raise TypeError(f"unknown store operation {type(op).__name__}")

    def _run(self, ops: Iterable[Op]) -> tuple[list[Plan], list[Op]]:
        plans = [self._plan(op) for op in ops]
        return plans, [inner for found, _ in plans for inner in found]

    @staticmethod
    def _combine(plans: list[Plan], results: list[Result]) -> list[Result]:
        combined: list[Result] = []
        start = 0
        for found, combine in plans:
            combined.append(combine(results[start : start + len(found)]))
            start += len(found)
        return combined

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        plans, inner = self._run(ops)
        return self._combine(plans, self._inner.batch(inner) if inner else [])

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        plans, inner = self._run(ops)
        return self._combine(plans, await self._inner.abatch(inner) if inner else [])


def _search_order(item: SearchItem) -> tuple[float, float]:
    """The store's search order as a merge key: best score first, then the newest update."""
    score = item.score if item.score is not None else float("-inf")
    return (-score, -item.updated_at.timestamp())
