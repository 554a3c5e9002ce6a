"""The store: cross-thread memory (§1.7). Access per namespace is decided in `selectors.store`."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router
from pydantic import Field

from atrium.core.errors import AtriumError
from atrium.runtime.api.common import json_response, no_content, truthy
from atrium.runtime.api.schemas import Body, Offset
from atrium.runtime.selectors import store as selectors
from atrium.runtime.selectors.store import validate_namespace
from atrium.runtime.services import store as services

router = Router(tags=["store"])


class StorePutIn(Body):
    namespace: list[str]
    key: str
    value: dict[str, Any]
    index: Literal[False] | list[str] | None = None
    ttl: float | None = None


class StoreDeleteIn(Body):
    namespace: list[str]
    key: str


class StoreSearchIn(Body):
    namespace_prefix: list[str] = Field(default_factory=list)
    filter: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreNamespacesIn(Body):
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(default=None, ge=1, le=1000)
    limit: int = Field(default=100, ge=1, le=1000)
    offset: Offset = 0


@router.put("/store/items")
async def store_item_put(request: HttpRequest, payload: StorePutIn) -> HttpResponse:
    await services.store_item_put(
        namespace=validate_namespace(payload.namespace),
        key=payload.key,
        value=payload.value,
        index=payload.index,
        ttl=payload.ttl,
    )
    return no_content()


@router.get("/store/items")
async def store_item_get(
    request: HttpRequest, namespace: str | None = None, key: str | None = None, refresh_ttl: str | None = None
) -> HttpResponse:
    if not key:
        raise AtriumError("Missing required query parameter: key.", code="missing_key")
    labels = validate_namespace(namespace.split(".") if namespace else [])
    item = await selectors.store_item_get(
        namespace=labels, key=key, refresh_ttl=truthy(refresh_ttl) if refresh_ttl is not None else None
    )
    # A missing key is 200 with `null`: both SDKs turn it into None/null (§0).
    return json_response(item.dict() if item is not None else None)


@router.delete("/store/items")
async def store_item_delete(request: HttpRequest, payload: StoreDeleteIn) -> HttpResponse:
    await services.store_item_delete(namespace=validate_namespace(payload.namespace), key=payload.key)
    return no_content()


@router.post("/store/items/search")
async def store_item_search(request: HttpRequest, payload: StoreSearchIn) -> HttpResponse:
    prefix = validate_namespace(payload.namespace_prefix, allow_empty=True, what="namespace_prefix")
    items = await selectors.store_item_search(
        namespace_prefix=prefix,
        value_filter=payload.filter,
        limit=payload.limit,
        offset=payload.offset,
        query=payload.query,
        refresh_ttl=payload.refresh_ttl,
    )
    return json_response({"items": [item.dict() for item in items]})


@router.post("/store/namespaces")
async def store_namespace_list(request: HttpRequest, payload: StoreNamespacesIn) -> HttpResponse:
    prefix = validate_namespace(payload.prefix, allow_empty=True, what="prefix") if payload.prefix else None
    suffix = validate_namespace(payload.suffix, allow_empty=True, what="suffix") if payload.suffix else None
    namespaces = await selectors.store_namespace_list(
        prefix=prefix, suffix=suffix, max_depth=payload.max_depth, limit=payload.limit, offset=payload.offset
    )
    return json_response({"namespaces": [list(namespace) for namespace in namespaces]})
