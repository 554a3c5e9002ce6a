"""The control-plane API (`/api/v1/`): routers assembled with their authentication, one error shape."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from atrium.accounts.api import router as accounts_router
from atrium.assistants.api import router as assistants_router
from atrium.audit.api import router as audit_router
from atrium.core.errors import DATA_ERRORS, AtriumError, data_error_message
from atrium.core.parsers import StrictJSONParser, body_too_large_message, refused_cause
from atrium.core.ratelimit import RateLimitedError
from atrium.core.tenancy import Permission
from atrium.credentials.api import callback_router, member_router
from atrium.credentials.api import org_router as credentials_router
from atrium.mcp_servers.api import router as mcp_servers_router
from atrium.orgs.api import org_router, user_router
from atrium.runtime.api.artifacts import router as artifacts_router
from atrium.skills.api import router as skills_router
from atrium.usage.api import admin_router as usage_admin_router
from atrium.usage.api import member_router as usage_member_router
from config.auth import OrgAuth, UserAuth

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Atrium control plane",
    version="1",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictJSONParser(),
)

api.add_router("", accounts_router, auth=UserAuth())
api.add_router("/orgs", user_router, auth=UserAuth())
api.add_router("/orgs/{org}", org_router, auth=OrgAuth())
api.add_router("/orgs/{org}", assistants_router, auth=OrgAuth(write=Permission.CONFIGURE_AGENTS))
api.add_router("/orgs/{org}", audit_router, auth=OrgAuth(Permission.MANAGE_ORG))
api.add_router("/orgs/{org}", credentials_router, auth=OrgAuth())
api.add_router("/orgs/{org}", mcp_servers_router, auth=OrgAuth(write=Permission.MANAGE_ORG))
# Skills: members read them, builders write them.
api.add_router("/orgs/{org}", skills_router, auth=OrgAuth(write=Permission.CONFIGURE_AGENTS))
# A member's own connections and consents: any role, writes included.
api.add_router("/orgs/{org}", member_router, auth=OrgAuth(Permission.READ))
api.add_router("/oauth", callback_router, auth=UserAuth())
# Files agents produced in a thread's sandbox: the thread's owner only (404 for anyone else).
api.add_router("/orgs/{org}", artifacts_router, auth=OrgAuth(Permission.READ))
# Model usage: each member their own; the org's, and its budgets, its admins.
api.add_router("/orgs/{org}", usage_member_router, auth=OrgAuth(Permission.READ))
api.add_router("/orgs/{org}", usage_admin_router, auth=OrgAuth(Permission.MANAGE_ORG))


def _error(request: HttpRequest, status: int, message: str, code: str, **extra: object) -> HttpResponse:
    return api.create_response(request, {"detail": message, "code": code, **extra}, status=status)


@api.exception_handler(AtriumError)
def on_atrium_error(request: HttpRequest, exc: AtriumError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, exc.code, **exc.extra)


@api.exception_handler(RateLimitedError)
def on_rate_limited(request: HttpRequest, exc: RateLimitedError) -> HttpResponse:
    response = _error(request, exc.status_code, exc.message, exc.code, **exc.extra)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        for err in exc.errors
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(part for part in first["loc"] if part not in {"body", "payload", "query", "path"})
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    return _error(request, 422, message, "validation_error", errors=errors)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "Authentication required.", "not_authenticated")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    refused = refused_cause(exc)  # the body parser's refusal, wrapped by django-ninja
    if refused is not None:
        return on_atrium_error(request, refused)
    return _error(request, exc.status_code, str(exc), "http_error")


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, body_too_large_message(), "body_too_large")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found.", "not_found")


def on_data_error(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    logger.warning("Refused a value the database cannot store: %s %s: %s", request.method, request.path, exc)
    return _error(request, 422, data_error_message(exc), "invalid_value")


for _data_error in DATA_ERRORS:
    api.add_exception_handler(_data_error, on_data_error)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.path)
    return _error(request, 500, "Internal error.", "internal_error")
