"""Custom auth handlers: the deployment's `langgraph_sdk.Auth` object, run on the Agent Server API.

An auth file written for a LangGraph deployment ports over unchanged: `langgraph.json` (the file
`ATRIUM_GRAPHS` names) says `"auth": {"path": "./auth.py:auth"}`, and

* `@auth.authenticate` identifies callers that bring neither an Atrium API key nor a session (e.g. a
  bearer token from the org's identity provider). Its user must be an Atrium user (matched by the
  returned `email`, else by `identity` as an email) and is then a member of an org like anyone else:
  the handler proves *who* calls, memberships still decide *where* and with which role;
* `@auth.on.<resource>.<action>` handlers run for every request, whoever the caller is. Exactly one
  runs, the most specific. It may allow (`None`/`True`), deny (`False` or `AssertionError` → 403,
  `Auth.exceptions.HTTPException` → its status), mutate the value (stamping `metadata`, rewriting a
  store namespace: the request proceeds with the mutated value) or return a metadata filter, which
  narrows what the request may touch (`Scope.narrow`; on the store, the items whose value matches, for
  every store action). A handler can only narrow: tenancy and roles are enforced before it runs and
  again in the selectors.

Fail closed: when `auth` is configured but does not load, every request to the API is refused with
503 and the reason; nothing is ever served as if there were no handler. A route missing from `ROUTES`
is refused too (a test keeps the table complete).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

from django.http import HttpRequest, QueryDict
from langgraph_sdk import Auth
from langgraph_sdk.auth.exceptions import HTTPException
from langgraph_sdk.auth.types import AuthContext

from atrium.accounts.models import User
from atrium.accounts.selectors import user_active_by_email
from atrium.assistants.graphs import registry
from atrium.core.errors import (
    AtriumError,
    NotAuthenticatedError,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from atrium.core.health import READINESS_CHECKS
from atrium.core.metadata_filter import InvalidFilterError, validate_filter
from atrium.core.parsers import json_load
from atrium.core.tenancy import Narrowing, Scope
from atrium.runtime.auth_user import AuthUser
from atrium.runtime.engine import GraphLoadError, import_variable
from atrium.runtime.services.lifecycle import batch_length_check

logger = logging.getLogger(__name__)

API_PREFIX = "agent/"

# A route's (resource, action); for a JSON-RPC endpoint, one per method (methods not listed touch no
# resource, e.g. handshakes, and run no handler).
Rule: TypeAlias = tuple[str, str] | Mapping[str, tuple[str, str]]

# (method, route under /agent) -> its rule, as the Agent Server maps its endpoints.
ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "assistants"): ("assistants", "create"),
    ("POST", "assistants/search"): ("assistants", "search"),
    ("POST", "assistants/count"): ("assistants", "search"),
    ("GET", "assistants/<assistant_id>"): ("assistants", "read"),
    ("PATCH", "assistants/<assistant_id>"): ("assistants", "update"),
    ("DELETE", "assistants/<assistant_id>"): ("assistants", "delete"),
    ("POST", "assistants/<assistant_id>/versions"): ("assistants", "read"),
    ("POST", "assistants/<assistant_id>/latest"): ("assistants", "update"),
    ("GET", "assistants/<assistant_id>/graph"): ("assistants", "read"),
    ("GET", "assistants/<assistant_id>/schemas"): ("assistants", "read"),
    ("GET", "assistants/<assistant_id>/subgraphs"): ("assistants", "read"),
    ("GET", "assistants/<assistant_id>/subgraphs/<namespace>"): ("assistants", "read"),
    ("POST", "threads"): ("threads", "create"),
    ("POST", "threads/search"): ("threads", "search"),
    ("POST", "threads/count"): ("threads", "search"),
    ("POST", "threads/prune"): ("threads", "delete"),
    ("GET", "threads/<thread_id>"): ("threads", "read"),
    ("PATCH", "threads/<thread_id>"): ("threads", "update"),
    ("DELETE", "threads/<thread_id>"): ("threads", "delete"),
    ("POST", "threads/<thread_id>/copy"): ("threads", "read"),
    ("GET", "threads/<thread_id>/state"): ("threads", "read"),
    ("POST", "threads/<thread_id>/state/checkpoint"): ("threads", "read"),
    ("GET", "threads/<thread_id>/state/<checkpoint_id>"): ("threads", "read"),
    ("POST", "threads/<thread_id>/state"): ("threads", "update"),
    ("PATCH", "threads/<thread_id>/state"): ("threads", "update"),
    ("POST", "threads/<thread_id>/history"): ("threads", "read"),
    ("GET", "threads/<thread_id>/history"): ("threads", "read"),
    ("GET", "threads/<thread_id>/stream"): ("threads", "read"),
    ("POST", "threads/<thread_id>/files"): ("threads", "update"),
    ("GET", "threads/<thread_id>/files"): ("threads", "read"),
    ("GET", "threads/<thread_id>/files/<name>"): ("threads", "read"),
    ("POST", "threads/<thread_id>/commands"): ("threads", "create_run"),
    ("POST", "threads/<thread_id>/stream/events"): ("threads", "read"),
    ("POST", "threads/<thread_id>/runs"): ("threads", "create_run"),
    ("POST", "threads/<thread_id>/runs/stream"): ("threads", "create_run"),
    ("POST", "threads/<thread_id>/runs/wait"): ("threads", "create_run"),
    ("GET", "threads/<thread_id>/runs"): ("threads", "search"),
    ("GET", "threads/<thread_id>/runs/<run_id>"): ("threads", "read"),
    ("DELETE", "threads/<thread_id>/runs/<run_id>"): ("threads", "delete"),
    ("POST", "threads/<thread_id>/runs/<run_id>/cancel"): ("threads", "update"),
    ("GET", "threads/<thread_id>/runs/<run_id>/join"): ("threads", "read"),
    ("GET", "threads/<thread_id>/runs/<run_id>/stream"): ("threads", "read"),
    ("POST", "runs/stream"): ("threads", "create_run"),
    ("POST", "runs/wait"): ("threads", "create_run"),
    ("POST", "runs"): ("threads", "create_run"),
    ("POST", "runs/batch"): ("threads", "create_run"),
    ("POST", "runs/cancel"): ("threads", "update"),
    ("GET", "runs/<run_id>"): ("threads", "read"),
    ("GET", "runs/<run_id>/stream"): ("threads", "read"),
    ("POST", "threads/<thread_id>/runs/crons"): ("crons", "create"),
    ("POST", "runs/crons"): ("crons", "create"),
    ("POST", "runs/crons/search"): ("crons", "search"),
    ("POST", "runs/crons/count"): ("crons", "search"),
    ("GET", "runs/crons/<cron_id>"): ("crons", "read"),
    ("PATCH", "runs/crons/<cron_id>"): ("crons", "update"),
    ("DELETE", "runs/crons/<cron_id>"): ("crons", "delete"),
    ("PUT", "store/items"): ("store", "put"),
    ("GET", "store/items"): ("store", "get"),
    ("DELETE", "store/items"): ("store", "delete"),
    ("POST", "store/items/search"): ("store", "search"),
    ("POST", "store/namespaces"): ("store", "list_namespaces"),
    ("POST", "mcp"): {"tools/list": ("assistants", "search"), "tools/call": ("threads", "create_run")},
    ("GET", "mcp"): {},
    ("DELETE", "mcp"): {},
    ("GET", ".well-known/agent-card.json"): ("assistants", "read"),
    ("POST", "a2a/<assistant_id>"): {
        "message/send": ("threads", "create_run"),
        "message/stream": ("threads", "create_run"),
        "tasks/get": ("threads", "read"),
    },
}

# Where a store action's namespace travels in the request body (GET reads it from the query string).
_STORE_NAMESPACE_KEY = {"put": "namespace", "delete": "namespace", "search": "namespace_prefix"}
_STORE_NAMESPACE_KEY["list_namespaces"] = "prefix"
# Actions whose value carries a `metadata` dict handlers may stamp.
_STAMPING_ACTIONS = frozenset({"create", "update", "create_run"})
_AUTHENTICATE_PARAMS = frozenset(
    {"request", "path", "method", "path_params", "query_params", "headers", "authorization"}
)


class HandlerUser(AuthUser):
    """The user handlers see (`ctx.user`): attribute and item access, like the Agent Server's."""


@dataclass(frozen=True)
class CustomAuth:
    auth: Auth

    @property
    def authenticates(self) -> bool:
        return self.auth._authenticate_handler is not None

    def handler_for(self, resource: str, action: str) -> Callable[..., Any] | None:
        """The most specific handler: (resource, action), (resource, *), (*, action), then global."""
        for key in ((resource, action), (resource, "*"), ("*", action)):
            handlers = self.auth._handlers.get(key)
            if handlers:
                return handlers[-1]
        return self.auth._global_handlers[-1] if self.auth._global_handlers else None


class _LoadFailure(Exception):
    pass


@lru_cache(maxsize=1)
def _load() -> CustomAuth | _LoadFailure | None:
    """Cached, failure included: a broken auth module stays refused until the process restarts."""
    graphs = registry()
    if graphs.auth_path is None:
        return None
    try:
        value = import_variable(graphs.auth_path, graphs.base_dir, what="auth")
    except GraphLoadError as exc:
        logger.error("the auth module did not load; refusing requests: %s", exc.reason)
        return _LoadFailure(f"{graphs.auth_path}: {exc.reason}")
    except Exception as exc:  # a malformed path, not only an import error
        logger.error("the auth module did not load; refusing requests: %s", exc)
        return _LoadFailure(f"{graphs.auth_path}: {type(exc).__name__}: {exc}")
    if not isinstance(value, Auth):
        logger.error("the auth entry is a %s, not a langgraph_sdk.Auth", type(value).__name__)
        return _LoadFailure(f"{graphs.auth_path}: not a langgraph_sdk.Auth instance")
    return CustomAuth(auth=value)


def custom_auth() -> CustomAuth | None:
    """The deployment's handlers; None when none is configured. Raises 503 when they did not load."""
    loaded = _load()
    if isinstance(loaded, _LoadFailure):
        raise ServiceUnavailableError(
            f"Custom authentication is configured but failed to load ({loaded}); requests are refused.",
            code="auth_unavailable",
        )
    return loaded


def _loaded_ok() -> bool | None:
    """For `/readyz`: None without custom auth, else whether the module loaded."""
    try:
        loaded = _load()
    except GraphLoadError:  # the graphs file itself is unreadable: reported where graphs are used
        return None
    return None if loaded is None else not isinstance(loaded, _LoadFailure)


READINESS_CHECKS["auth_handlers"] = _loaded_ok


def reset() -> None:
    """Forget the loaded module (tests switch `ATRIUM_GRAPHS`)."""
    _load.cache_clear()


class HandlerError(AtriumError):
    """A handler's own `HTTPException`: its status and detail go to the client as they are."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail, code="auth_handler")
        self.status_code = status_code


# ----- authentication -------------------------------------------------------------------------------


def _headers(request: HttpRequest) -> dict[bytes, bytes]:
    return {k.lower().encode(): str(v).encode() for k, v in request.headers.items()}


async def authenticate(loaded: CustomAuth, request: HttpRequest) -> HandlerUser:
    """Run `@auth.authenticate` for a request; its user, or 401/403 as the handler says."""
    handler = loaded.auth._authenticate_handler
    assert handler is not None
    match = request.resolver_match
    available: dict[str, Any] = {
        "request": request,
        "path": request.path,
        "method": request.method,
        "path_params": dict(match.kwargs) if match is not None else {},
        "query_params": {k: request.GET.get(k) for k in request.GET},
        "headers": _headers(request),
        "authorization": request.headers.get("Authorization"),
    }
    names = inspect.signature(handler).parameters
    kwargs = {name: available.get(name) for name in names if name in _AUTHENTICATE_PARAMS}
    try:
        produced: Any = handler(**kwargs)
        result = await produced if inspect.isawaitable(produced) else produced
    except HTTPException as exc:
        raise HandlerError(exc.status_code, str(exc.detail)) from None
    except AssertionError as exc:
        raise NotAuthenticatedError(str(exc) or "Unauthorized", code="auth_handler") from None
    return _as_user(result)


def _as_user(result: Any) -> HandlerUser:
    if isinstance(result, str) and result:
        return HandlerUser({"identity": result})
    if isinstance(result, Mapping) and result.get("identity"):
        return HandlerUser(result)
    identity = getattr(result, "identity", None)
    if identity:
        fields = ("identity", "display_name", "is_authenticated", "permissions", "email")
        return HandlerUser({f: getattr(result, f) for f in fields if hasattr(result, f)})
    raise NotAuthenticatedError("The authentication handler returned no identity.", code="auth_handler")


def atrium_user_for(user: HandlerUser) -> User:
    """The Atrium user a handler-authenticated caller is: by the returned `email`, else `identity`."""
    email = str(user.get("email") or user.identity)
    found = user_active_by_email(email=email)
    if found is None:
        raise NotAuthenticatedError("No Atrium user matches this identity.", code="unknown_identity")
    return found


def user_from_scope(scope: Scope, user: User) -> HandlerUser:
    """What handlers see for callers Atrium authenticated itself (API key, session)."""
    role = str(scope.role or "")
    return HandlerUser(
        {
            "identity": str(user.id),
            "email": user.email,
            "display_name": user.name or user.email,
            "permissions": [role] if role else [],
            "org_id": str(scope.org_id or ""),
            "role": role,
        }
    )


# ----- authorization --------------------------------------------------------------------------------


def _route_key(request: HttpRequest) -> tuple[str, str] | None:
    """The request's method and Agent API route, as `ROUTES` keys them."""
    match = request.resolver_match
    if match is None or not match.route.startswith(API_PREFIX):
        return None
    return str(request.method), match.route.removeprefix(API_PREFIX)


def route_of(request: HttpRequest) -> Rule | None:
    key = _route_key(request)
    return None if key is None else ROUTES.get(key)


def _ids(request: HttpRequest) -> dict[str, Any]:
    match = request.resolver_match
    out: dict[str, Any] = {}
    for key, raw in (match.kwargs if match is not None else {}).items():
        try:
            out[key] = uuid.UUID(str(raw)) if key.endswith("_id") else raw
        except ValueError:
            out[key] = raw
    return out


def _json_body(request: HttpRequest) -> Any:
    if not request.body:
        return None
    try:
        return json_load(request.body)
    except AtriumError:
        return None  # the operation's own parse answers the refused body


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


async def _call(
    handler: Callable[..., Any], ctx: AuthContext, value: dict[str, Any]
) -> dict[str, Any] | None:
    """One handler call: its filter (None to allow everything), or the denial it asked for."""
    try:
        result = await handler(ctx=ctx, value=value)
    except HTTPException as exc:
        raise HandlerError(exc.status_code, str(exc.detail)) from None
    except AssertionError:
        raise PermissionDeniedError("Forbidden", code="auth_handler") from None
    if result is None or result is True:
        return None
    if result is False:
        raise PermissionDeniedError("Forbidden", code="auth_handler")
    try:
        return validate_filter(result)
    except InvalidFilterError as exc:
        logger.error("auth handler for %s.%s returned an invalid filter: %s", ctx.resource, ctx.action, exc)
        raise AtriumError("The authorization handler returned an invalid filter.") from exc


async def authorize(loaded: CustomAuth, request: HttpRequest, scope: Scope, user: HandlerUser) -> Scope:
    """Run the request's handler; returns the scope, narrowed by the filter it returned (if any).

    Mutations of the value flow back into the request: the body (or query string) the operation then
    reads is the one the handler left.
    """
    rule = route_of(request)
    if rule is None:
        raise PermissionDeniedError("No authorization rule covers this route.", code="auth_handler")
    body = _json_body(request)
    rpc_params = body.get("params") if isinstance(body, dict) else None
    if isinstance(rule, Mapping):  # a JSON-RPC endpoint: the body's method names the action
        method = body.get("method") if isinstance(body, dict) else None
        found_rule = rule.get(method) if isinstance(method, str) else None
        if found_rule is None:
            return scope  # a handshake or a method that touches no resource
        rule = found_rule
    resource, action = rule
    handler = loaded.handler_for(resource, action)
    if handler is None:
        return scope  # no handler for it: allowed, as on the Agent Server
    ctx = AuthContext(
        permissions=list(user.get("permissions") or []),
        user=user,  # type: ignore[arg-type]
        resource=resource,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
    )
    if resource == "store":
        return _narrowed(scope, resource, await _authorize_store(handler, ctx, request, action))
    if isinstance(body, list):  # runs/batch: each run is its own create_run
        if _route_key(request) == ("POST", "runs/batch"):
            batch_length_check(len(body))  # before the handler runs once per item
        for item in body:
            if isinstance(item, dict):
                await _authorize_one(handler, ctx, item, _ids(request), action)
        request._body = json.dumps(_jsonable(body)).encode()  # type: ignore[attr-defined]
        return scope
    root: dict[str, Any] = {}
    if isinstance(body, dict):
        # JSON-RPC envelopes (v2 `/commands`, MCP, A2A) carry the fields in `params`.
        enveloped = isinstance(rpc_params, dict) and isinstance(body.get("method"), str)
        root = rpc_params if enveloped and isinstance(rpc_params, dict) else body
    found = await _authorize_one(handler, ctx, root, _ids(request), action)
    if body is not None:
        request._body = json.dumps(_jsonable(body)).encode()  # type: ignore[attr-defined]
    return _narrowed(scope, resource, found)


def _narrowed(scope: Scope, resource: str, found: dict[str, Any] | None) -> Scope:
    """`scope`, narrowed to the rows of `resource` that match the handler's filter (if it returned one)."""
    if found is None:
        return scope
    return dataclasses.replace(scope, narrowing=Narrowing(resource=resource, filter=found))


async def _authorize_one(
    handler: Callable[..., Any], ctx: AuthContext, root: dict[str, Any], ids: dict[str, Any], action: str
) -> dict[str, Any] | None:
    value: dict[str, Any] = {**root, **ids}
    if action in _STAMPING_ACTIONS:
        value["metadata"] = dict(root.get("metadata") or {})
    found = await _call(handler, ctx, value)
    for key in root:
        if key in value and key not in ids:
            root[key] = value[key]
    if value.get("metadata"):
        root["metadata"] = value["metadata"]
    return found


async def _authorize_store(
    handler: Callable[..., Any], ctx: AuthContext, request: HttpRequest, action: str
) -> dict[str, Any] | None:
    """Store handlers scope by rewriting the namespace, or by returning a filter on item values: the
    filter narrows every store action (get, put, delete, search and namespace listing; selectors.store
    applies it), never dropped."""
    if action == "get":
        raw = request.GET.get("namespace")
        value: dict[str, Any] = {
            "namespace": tuple(raw.split(".")) if raw else (),
            "key": request.GET.get("key"),
            "refresh_ttl": request.GET.get("refresh_ttl"),
        }
        found = await _call(handler, ctx, value)
        query = request.GET.copy()
        query["namespace"] = ".".join(str(label) for label in value["namespace"] or ())
        request.GET = QueryDict(query.urlencode())
        return found
    body = _json_body(request)
    if not isinstance(body, dict):
        return None  # not a JSON object: the operation refuses it (422) and touches nothing
    key = _STORE_NAMESPACE_KEY[action]
    value = {k: v for k, v in body.items() if k != key}
    namespace = body.get(key)
    value["namespace"] = tuple(namespace) if namespace is not None else None
    found = await _call(handler, ctx, value)
    body.update({k: v for k, v in value.items() if k != "namespace"})
    body[key] = list(value["namespace"]) if value["namespace"] is not None else None
    request._body = json.dumps(_jsonable(body)).encode()  # type: ignore[attr-defined]
    return found
