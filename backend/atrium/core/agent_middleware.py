"""A lean request path for the Agent Server API.

Django adapts every sync-only middleware to async with a hop onto one shared thread, which costs
milliseconds per request and serialises requests under load. The Agent Server API is served by its own
handler (config.asgi) whose middleware is native async: the tenancy reset, and a lazy session/user
loader replacing SessionMiddleware + AuthenticationMiddleware (the API never writes the session; CSRF is
checked by the API's authentication).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from importlib import import_module

from asgiref.sync import markcoroutinefunction
from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import patch_vary_headers
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


# A browser page served from this machine, on any port: what `langgraph dev` accepts too.
LOOPBACK_ORIGIN = re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?")


class AgentCorsMiddleware:
    """CORS for browser clients of the Agent Server API on other origins.

    Listed origins (`ATRIUM_CORS_ORIGINS`) are echoed with credentials, so a separately hosted chat UI
    may use the session cookie; `*` allows any origin without credentials. With
    `ATRIUM_CORS_ALLOW_LOOPBACK` (on under `make dev`), loopback origins on any port are echoed too, but
    without credentials: a local chat UI or studio authenticates with an API key, and no other page on
    the developer's machine can ride their signed-in session. Every preflight is answered here, before
    routing (the API has no OPTIONS operations): 204 for an allowed origin, 403 with a reason otherwise.
    Exposes the headers the SDKs read (Content-Location for `onCreated`/reconnects, Location for SSE
    auto-reconnect, pagination, Retry-After on a 429).
    """

    sync_capable = False
    async_capable = True
    EXPOSE = "Content-Location, Location, X-Pagination-Next, X-Pagination-Total, Retry-After"
    METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    # Allowed when a preflight names none; otherwise the requested headers are echoed.
    HEADERS = "authorization, content-type, x-api-key, x-atrium-org, last-event-id, x-request-id"

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        self.origins = set(settings.ATRIUM_CORS_ORIGINS)
        self.allow_loopback: bool = settings.ATRIUM_CORS_ALLOW_LOOPBACK
        markcoroutinefunction(self)

    def _grant(self, origin: str | None) -> tuple[str, bool] | None:
        """The Access-Control-Allow-Origin value and whether credentials are allowed, or None."""
        if origin is None:
            return None
        if origin in self.origins:
            return origin, True
        if self.allow_loopback and LOOPBACK_ORIGIN.fullmatch(origin):
            return origin, False
        if "*" in self.origins:
            return "*", False
        return None

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        origin = request.headers.get("Origin")
        grant = self._grant(origin)
        preflight = (
            request.method == "OPTIONS"
            and origin is not None
            and "Access-Control-Request-Method" in request.headers
        )
        response: HttpResponseBase
        if preflight and grant is None:
            response = JsonResponse(
                {"detail": f"Origin {origin} is not allowed; list it in ATRIUM_CORS_ORIGINS."},
                status=403,
            )
        elif preflight:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = self.METHODS
            requested = request.headers.get("Access-Control-Request-Headers")
            response["Access-Control-Allow-Headers"] = requested or self.HEADERS
            response["Access-Control-Max-Age"] = "600"
            # Chrome asks before a public page (e.g. a listed hosted studio) calls a loopback server.
            if request.headers.get("Access-Control-Request-Private-Network") == "true":
                response["Access-Control-Allow-Private-Network"] = "true"
        else:
            response = await self.get_response(request)
        if origin is not None:
            patch_vary_headers(response, ("Origin",))
        if grant is not None:
            allow_origin, credentials = grant
            response["Access-Control-Allow-Origin"] = allow_origin
            if credentials:
                response["Access-Control-Allow-Credentials"] = "true"
            response["Access-Control-Expose-Headers"] = self.EXPOSE
        return response
