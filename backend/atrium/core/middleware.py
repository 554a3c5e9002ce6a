"""Request-level plumbing for tenancy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from atrium.core.tenancy import reset_scope, set_scope


class TenancyScopeMiddleware:
    """Starts every request with no scope and clears whatever authentication set when it ends.

    Threads are reused between requests; without this a scope set for one request could leak into
    the next one handled on the same thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        token = set_scope(None)
        try:
            response: HttpResponseBase = self.get_response(request)
            return response
        finally:
            reset_scope(token)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        token = set_scope(None)
        try:
            response: HttpResponseBase = await self.get_response(request)
            return response
        finally:
            reset_scope(token)
