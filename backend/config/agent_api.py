"""The Agent Server API (LangGraph-compatible), mounted at /agent: the runtime's routers
(atrium/runtime/api/) assembled with their authentication and the protocol's error shape.

It keeps the wire contract of the official clients (shared/docs/agent-protocol.md): errors are
`{"detail": "<message>"}` with the protocol's status codes, bodiless answers are 202/204, unknown body
fields are ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from atrium.core.errors import DATA_ERRORS, AtriumError, data_error_message
from atrium.core.parsers import StrictJSONParser, body_too_large_message, refused_cause
from atrium.core.ratelimit import RateLimitedError
from atrium.runtime.engine import GraphLoadError, GraphNotFoundError
from config.agent_auth import AgentAuth

logger = logging.getLogger(__name__)


class AgentAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        """The API's document, with the project's own routes (`http.app`, config.custom_routes) under
        its root; an app's path never replaces one of the API's."""
        from config.custom_routes import project_openapi_paths

        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        paths, schemas = project_openapi_paths()
        root = path_prefix.rstrip("/")
        for path, operations in paths.items():
            schema["paths"].setdefault(root + path, operations)
        if schemas:
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, value in schemas.items():
                components.setdefault(name, value)
        return schema


api = AgentAPI(
    title="Atrium Agent Server API",
    version="1",
    urls_namespace="agent",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=AgentAuth(),
    parser=StrictJSONParser(),
)


def detail(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return api.create_response(request, {"detail": message}, status=status)


@api.exception_handler(AtriumError)
def on_atrium_error(request: HttpRequest, exc: AtriumError) -> HttpResponse:
    return detail(request, exc.status_code, exc.message)


@api.exception_handler(RateLimitedError)
def on_rate_limited(request: HttpRequest, exc: RateLimitedError) -> HttpResponse:
    response = detail(request, exc.status_code, exc.message)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    parts = []
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path"))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return detail(request, 422, "; ".join(parts) or "Invalid request.")


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return detail(request, 401, "Authentication required.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    refused = refused_cause(exc)  # the body parser's refusal, wrapped by django-ninja
    if refused is not None:
        return on_atrium_error(request, refused)
    return detail(request, exc.status_code, str(exc))


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return detail(request, 413, body_too_large_message())


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return detail(request, 404, "Not found.")


@api.exception_handler(GraphNotFoundError)
def on_graph_not_found(request: HttpRequest, exc: GraphNotFoundError) -> HttpResponse:
    return detail(request, 422, str(exc))


@api.exception_handler(GraphLoadError)
def on_graph_load_error(request: HttpRequest, exc: GraphLoadError) -> HttpResponse:
    logger.error("graph failed to load: %s", exc)
    return detail(request, 422, str(exc))


def on_data_error(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    logger.warning("Refused a value the database cannot store: %s %s: %s", request.method, request.path, exc)
    return detail(request, 422, data_error_message(exc))


for _data_error in DATA_ERRORS:
    api.add_exception_handler(_data_error, on_data_error)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.path)
    return detail(request, 500, "Internal error.")


def _register() -> None:
    from atrium.runtime.api import a2a, assistants, crons, mcp, meta, runs, store, threads, v2

    # crons before runs: its literal `/runs/crons` paths would otherwise match `/runs/{run_id}`.
    for module in (meta, assistants, threads, crons, runs, store, v2, mcp, a2a):
        api.add_router("", module.router)


_register()
