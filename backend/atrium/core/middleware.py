"""Request-level plumbing: tenancy, and the request id every log line of a request carries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from atrium.core.logs import bind_log_ids, reset_log_ids
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


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` when it is a sane token, else a new
    one), binds it for the request's log lines and returns it in the `X-Request-ID` header."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _request_id(request: HttpRequest) -> str:
        given = request.headers.get("X-Request-ID", "")
        return given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        request_id = self._request_id(request)
        token = bind_log_ids(request_id=request_id)
        try:
            response: HttpResponseBase = self.get_response(request)
        finally:
            reset_log_ids(token)
        response["X-Request-ID"] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        # Not reset: Django's ASGI handler runs each request in its own asyncio task, so the binding
        # ends with the request, and still covers a streamed body sent after this returns.
        request_id = self._request_id(request)
        bind_log_ids(request_id=request_id)
        response: HttpResponseBase = await self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
