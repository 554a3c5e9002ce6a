"""A store view confined to one organisation.

Graphs and the store API see namespaces as clients write them (`("user", "42", "memories")`); on disk
each is prefixed with the org (`("org:<uuid>", "user", "42", "memories")`). A graph run for one org
therefore cannot read or list another org's items whatever namespace it asks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
)


class TenantStore(BaseStore):
    def __init__(self, inner: BaseStore, org_id: str) -> None:
        self._inner = inner
        self._prefix = (f"org:{org_id}",)

    @property
    def supports_ttl(self) -> bool:  # type: ignore[override]
        return bool(getattr(self._inner, "supports_ttl", False))

    def _wrap(self, op: Op) -> Op:
        if isinstance(op, GetOp):
            return op._replace(namespace=self._prefix + op.namespace)
        if isinstance(op, PutOp):
            return op._replace(namespace=self._prefix + op.namespace)
        if isinstance(op, SearchOp):
            return op._replace(namespace_prefix=self._prefix + op.namespace_prefix)
        if isinstance(op, ListNamespacesOp):
            conditions = list(op.match_conditions or ())
            prefixes = [c for c in conditions if c.match_type == "prefix"]
            others = [c for c in conditions if c.match_type != "prefix"]
            path = self._prefix + (prefixes[0].path if prefixes else ())
            max_depth = op.max_depth + len(self._prefix) if op.max_depth is not None else None
            return op._replace(
                match_conditions=(MatchCondition(match_type="prefix", path=path), *others),
                max_depth=max_depth,
            )
        raise TypeError(f"unknown store operation {type(op).__name__}")

    def _strip(self, namespace: tuple[str, ...]) -> tuple[str, ...]:
        return namespace[len(self._prefix) :]

    def _unwrap(self, result: Any) -> Any:
        if isinstance(result, SearchItem):
            return SearchItem(
                namespace=self._strip(result.namespace),
                key=result.key,
                value=result.value,
                created_at=result.created_at,
                updated_at=result.updated_at,
                score=result.score,
            )
        if isinstance(result, Item):
            return Item(
                namespace=self._strip(result.namespace),
                key=result.key,
                value=result.value,
                created_at=result.created_at,
                updated_at=result.updated_at,
            )
        if isinstance(result, list):
            return [self._unwrap(r) if isinstance(r, Item) else self._strip(tuple(r)) for r in result]
        return result

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return [self._unwrap(r) for r in self._inner.batch([self._wrap(op) for op in ops])]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return [self._unwrap(r) for r in await self._inner.abatch([self._wrap(op) for op in ops])]
