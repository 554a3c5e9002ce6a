"""A lean request path for the Agent Server API.

Django adapts every sync-only middleware to async with a hop onto one shared thread, which costs
milliseconds per request and serialises requests under load. The Agent Server API is served by its own
handler (config.asgi) whose middleware is native async: the tenancy reset, and a lazy session/user
loader replacing SessionMiddleware + AuthenticationMiddleware (the API never writes the session; CSRF is
checked by the API's authentication).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import import_module

from asgiref.sync import markcoroutinefunction
from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.functional import SimpleLazyObject


class LazySessionUserMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Nothing here touches the database: the session and user load on first access, which
        # config.auth does off the event loop, and only when no API key was sent.
        request.session = self.session_store(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        request.user = SimpleLazyObject(lambda: auth.get_user(request))  # type: ignore[assignment]
        return await self.get_response(request)


class AgentCorsMiddleware:
    """CORS for browser clients of the Agent Server API on other origins (`ATRIUM_CORS_ORIGINS`).

    Exposes the headers the SDKs read (Content-Location for `onCreated`/reconnects, Location for SSE
    auto-reconnect, pagination, Retry-After on a 429) and allows credentials only for listed origins,
    never for `*`.
    """

    sync_capable = False
    async_capable = True
    EXPOSE = "Content-Location, Location, X-Pagination-Next, X-Pagination-Total, Retry-After"

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        self.origins = set(settings.ATRIUM_CORS_ORIGINS)
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        origin = request.headers.get("Origin")
        allowed = origin is not None and (origin in self.origins or "*" in self.origins)
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response: HttpResponseBase = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            requested = request.headers.get("Access-Control-Request-Headers", "*")
            response["Access-Control-Allow-Headers"] = requested
            response["Access-Control-Max-Age"] = "600"
        else:
            response = await self.get_response(request)
        if allowed and origin is not None:
            response["Access-Control-Allow-Origin"] = origin if origin in self.origins else "*"
            if origin in self.origins:
                response["Access-Control-Allow-Credentials"] = "true"
            response["Access-Control-Expose-Headers"] = self.EXPOSE
            response["Vary"] = "Origin"
        return response
