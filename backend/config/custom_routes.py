"""The project's own HTTP routes: the ASGI app (Starlette, FastAPI...) its `langgraph.json` names in
`"http": {"app": "./webapp.py:app"}`, served next to the Agent Server API as the Agent Server serves it.

Its routes answer under /agent, the API's root (a client whose SDK points at `<host>/agent` calls
`<host>/agent/hello` for the app's `/hello`): a request no API route matches comes here (the URL map's
last /agent pattern), so the app can add routes but never shadow or replace the API's. Unless the
project sets `"enable_custom_route_auth": false`, a caller must authenticate as for the API (API key,
session with CSRF on writes, or the deployment's `@auth.authenticate`) and needs the same permission
(reads: a member; writes: one who may use agents); the app then finds the caller in `request.user`
(`scope["user"]`, identity and fields as graphs see them). The app's lifespan starts before its first
request in each event loop (startup; its state reaches every request), and is not shut down: it lives
as long as the process.

Fail closed, like the auth module: an app that does not load answers 503 with the reason, once cached.
The app's routes are listed in the API's OpenAPI document: a FastAPI app's own schema, or each route's
path and methods for a plain Starlette app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from functools import lru_cache
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from atrium.assistants.graphs import registry
from atrium.core.errors import ServiceUnavailableError
from atrium.core.tenancy import current_scope
from atrium.runtime.auth_user import AuthUser, handler_user_fields
from atrium.runtime.engine import GraphLoadError, import_variable
from config.agent_auth import AgentAuth
from config.custom_auth import user_from_scope

logger = logging.getLogger(__name__)

ROOT_PATH = "/agent"
_authenticate = AgentAuth(authorize_resources=False)
ASGIApp = Callable[..., Any]


class _LoadFailure(Exception):
    pass


@lru_cache(maxsize=1)
def _load() -> ASGIApp | _LoadFailure | None:
    """Cached, failure included: a broken app stays refused until the process restarts."""
    http = registry().http
    if http.app is None:
        return None
    try:
        app = import_variable(http.app, registry().base_dir, what="http.app")
    except GraphLoadError as exc:
        logger.error("the project's http.app did not load: %s", exc.reason)
        return _LoadFailure(f"{http.app}: {exc.reason}")
    if not callable(app):
        return _LoadFailure(f"{http.app}: a {type(app).__name__}, not an ASGI app")
    return cast(ASGIApp, app)


def project_app() -> ASGIApp | None:
    """The project's ASGI app; None when it names none. Raises 503 when it did not load."""
    loaded = _load()
    if isinstance(loaded, _LoadFailure):
        raise ServiceUnavailableError(
            f"The project's http.app failed to load ({loaded}).", code="http_app_unavailable"
        )
    return loaded


def reset() -> None:
    """Forget the loaded app (tests switch `ATRIUM_GRAPHS`)."""
    _load.cache_clear()
    _lifespans.clear()


# ----- the lifespan ---------------------------------------------------------------------------------

# Per event loop (weakly keyed: a loop's entry dies with it): the state the app's startup left.
_lifespans: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
_lifespan_tasks: set[asyncio.Task[None]] = set()  # held so they are not collected while they run


async def _start_lifespan(app: ASGIApp) -> dict[str, Any]:
    """Run the app's lifespan until its startup completes; its state. An app that does not speak the
    lifespan protocol (raises at once) has none, as ASGI servers allow."""
    state: dict[str, Any] = {}
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    startup_sent = False

    async def receive() -> Mapping[str, Any]:
        nonlocal startup_sent
        if not startup_sent:
            startup_sent = True
            return {"type": "lifespan.startup"}
        await asyncio.Event().wait()  # shutdown never comes: it lives as long as the process
        return {"type": "lifespan.shutdown"}

    async def send(message: Mapping[str, Any]) -> None:
        if message["type"] in ("lifespan.startup.complete", "lifespan.startup.failed") and not started.done():
            started.set_result(message["type"] + ": " + str(message.get("message", "")))

    async def run() -> None:
        try:
            await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, receive, send)
        except Exception as exc:
            if not started.done():
                started.set_exception(exc)

    task = asyncio.create_task(run())
    _lifespan_tasks.add(task)
    task.add_done_callback(_lifespan_tasks.discard)
    try:
        outcome = await started
    except Exception:
        logger.info("the project's http.app has no lifespan", exc_info=True)
        return state
    if outcome.startswith("lifespan.startup.failed"):
        raise ServiceUnavailableError(
            f"The project's http.app failed to start ({outcome}).", code="http_app_unavailable"
        )
    return state


async def _lifespan_state(app: ASGIApp) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    found = _lifespans.get(loop)
    if found is None:
        found = _lifespans[loop] = loop.create_task(_start_lifespan(app))
    return await asyncio.shield(found)


# ----- the request ----------------------------------------------------------------------------------


def _asgi_scope(request: HttpRequest, user: AuthUser | None, state: dict[str, Any]) -> dict[str, Any]:
    own = getattr(request, "scope", None)  # the server's scope under ASGI; the test client has none
    if own is not None:
        scope = {k: v for k, v in own.items() if k not in ("user", "auth", "session")}
    else:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": request.scheme,
            "path": request.path,
            "raw_path": request.path.encode(),
            "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
            "headers": [
                (name.lower().encode("latin-1"), str(value).encode("latin-1"))
                for name, value in request.headers.items()
            ],
            "client": (request.META.get("REMOTE_ADDR", ""), 0),
            "server": (request.get_host().partition(":")[0], int(request.get_port())),
        }
    query = scope.get("query_string") or b""
    # Django's test client gives text where servers give bytes.
    scope["query_string"] = query.encode("latin-1") if isinstance(query, str) else query
    # The app sees its own paths below the API's root, as an app mounted there does.
    scope.update(method=request.method, root_path=ROOT_PATH, state=dict(state))
    if user is not None:
        scope["user"] = user
        scope["auth"] = list(user.get("permissions") or [])
    return scope


async def _respond(app: ASGIApp, scope: dict[str, Any], body: bytes) -> HttpResponseBase:
    messages: asyncio.Queue[Mapping[str, Any] | None] = asyncio.Queue()
    done = asyncio.Event()
    body_sent = False

    async def receive() -> Mapping[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        await messages.put(message)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        finally:
            await messages.put(None)

    task = asyncio.create_task(run())
    start = await messages.get()
    if start is None or start.get("type") != "http.response.start":
        done.set()
        with contextlib.suppress(Exception):
            await task
        if task.done() and not task.cancelled() and task.exception() is not None:
            logger.error("the project's http.app failed", exc_info=task.exception())
        return HttpResponse(b'{"detail": "Internal error."}', status=500, content_type="application/json")

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while (message := await messages.get()) is not None:
                if message.get("type") == "http.response.body":
                    yield bytes(message.get("body", b""))
                    if not message.get("more_body", False):
                        break
        finally:
            done.set()
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await task

    response = StreamingHttpResponse(chunks(), status=int(start["status"]))
    for name, value in start.get("headers", ()):
        key = bytes(name).decode("latin-1")
        if key.lower() in ("content-length", "transfer-encoding", "connection"):
            continue  # framing is the server's
        response[key] = bytes(value).decode("latin-1")
    return response


async def project_routes(request: HttpRequest, rest: str = "") -> HttpResponseBase:
    """A request under /agent that no API route matched: the project's app answers it, if there is one."""
    from config.agent_api import api

    try:
        if _load.cache_info().currsize == 0:
            await asyncio.to_thread(_load)  # the first import runs the project's module: off the loop
        app = project_app()
        if app is None:
            return api.create_response(request, {"detail": "Not found."}, status=404)
        user = None
        if registry().http.enable_custom_route_auth:
            principal = await _authenticate(request)
            fields = handler_user_fields()
            user = AuthUser(fields) if fields else user_from_scope(current_scope(), principal.user)
        state = await _lifespan_state(app)
        return await _respond(app, _asgi_scope(request, user, state), request.body)
    except Exception as exc:  # the API's error shape (401, 403, 429, 503...), as its own routes answer
        return api.on_exception(request, exc)


# ----- OpenAPI --------------------------------------------------------------------------------------


def project_openapi_paths() -> tuple[dict[str, Any], dict[str, Any]]:
    """The app's paths (as the API lists them, under its root) and component schemas; empty without
    an app, or when it does not load (its routes then answer 503)."""
    try:
        app = project_app()
    except ServiceUnavailableError:
        return {}, {}
    if app is None:
        return {}, {}
    openapi = getattr(app, "openapi", None)
    if callable(openapi):  # FastAPI: its own document
        document = openapi()
        return dict(document.get("paths") or {}), dict(
            (document.get("components") or {}).get("schemas") or {}
        )
    routes = getattr(app, "routes", None)
    if routes is None:
        return {}, {}
    from starlette.schemas import SchemaGenerator

    paths: dict[str, Any] = {}
    for endpoint in SchemaGenerator({}).get_endpoints(routes):
        paths.setdefault(endpoint.path, {})[endpoint.http_method] = {
            "summary": endpoint.func.__name__.replace("_", " "),
            "tags": ["custom"],
            "responses": {"200": {"description": "Answered by the project's http.app."}},
        }
    return paths, {}
