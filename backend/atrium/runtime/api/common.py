"""Small helpers shared by the Agent Server API operations."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse

from atrium.core.errors import ValidationFailedError
from atrium.runtime.db import with_live_connection
from atrium.runtime.engine import dumps

T = TypeVar("T")


def call(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run a sync service or selector off the event loop, in parallel with other requests' calls
    (each gets its own thread and database connection from the pool)."""
    return sync_to_async(with_live_connection(fn), thread_sensitive=False)


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(dumps(data), status=status, content_type="application/json")
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def no_content(status: int = 204) -> HttpResponse:
    return HttpResponse(status=status)


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def query_list(request: HttpRequest, name: str) -> list[str] | None:
    """A list query parameter in any of the clients' encodings: repeated keys (Python) or a JSON
    array string (JS), or a single value."""
    values = request.GET.getlist(name)
    if not values:
        return None
    items: list[str] = []
    for value in values:
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                items.extend(str(v) for v in json.loads(stripped))
                continue
            except ValueError:
                pass
        items.append(stripped)
    return items


def paginated(items: list[Any], *, total: int, offset: int, limit: int) -> HttpResponse:
    headers = {"X-Pagination-Total": str(total)}
    if offset + limit < total:
        headers["X-Pagination-Next"] = str(offset + limit)
    return json_response(items, headers=headers)


def path_uuid(value: str, what: str = "thread") -> uuid.UUID:
    """A UUID from the path, or the protocol's 422 `Invalid <what> ID: must be a UUID`."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailedError(f"Invalid {what} ID: must be a UUID") from None
