"""Authentication for the Agent Server API: API key (the SDKs' `x-api-key`) or the browser session.

An API key belongs to one org. A session user names the org with the `X-Atrium-Org` header (the web
app sends it); a user with a single membership may omit it. Then the scope is set exactly as for the
control plane (config.auth); safe methods need `Permission.READ`, writes `Permission.USE_AGENTS`.
"""

from __future__ import annotations

import re

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from atrium.core.errors import AtriumError, NotFoundError
from atrium.core.tenancy import Permission, Scope, set_scope
from atrium.orgs.access import access_epoch_async
from atrium.orgs.limits import OrgLimits, api_request_allow, api_request_allow_async, org_limits_cached
from atrium.orgs.selectors import membership_list_for_user
from atrium.orgs.services import api_key_cached
from atrium.runtime.auth_user import set_handler_user
from atrium.runtime.db import with_live_connection
from config.auth import API_KEY_HEADER, SAFE_METHODS, Principal, identify, resolve_org_scope
from config.custom_auth import atrium_user_for, authenticate, authorize, custom_auth, user_from_scope

ORG_HEADER = "HTTP_X_ATRIUM_ORG"
# POSTs that only read (searches, counts, history): viewers may call them.
READ_ONLY_POSTS = (
    "/search",
    "/count",
    "/history",
    "/state/checkpoint",
    "/versions",
    "/namespaces",
    "/stream/events",
)


def _resolve(request: HttpRequest, *, principal: Principal | None = None) -> tuple[Principal, Scope]:
    principal = principal or identify(request)
    slug = request.META.get(ORG_HEADER) or None
    if principal.key_membership is None and slug is None:
        memberships = list(membership_list_for_user(user=principal.user)[:2])
        if len(memberships) != 1:
            raise AtriumError(
                "Name the organisation with the X-Atrium-Org header.", code="organisation_required"
            )
        slug = memberships[0].org.slug
    return principal, resolve_org_scope(principal, slug)


# JSON-RPC endpoints (MCP, A2A) mix reads and writes in one POST: viewers get through the door, and the
# run services they call require USE_AGENTS themselves.
JSON_RPC_PATHS = re.compile(r"/(mcp|a2a/[^/]+)$")


def _resolve_counted(request: HttpRequest, *, principal: Principal | None = None) -> tuple[Principal, Scope]:
    """`_resolve`, then the org's API rate limits (429), in the same thread hop."""
    principal, scope = _resolve(request, principal=principal)
    api_request_allow(scope)
    return principal, scope


def _resolve_in_memory(request: HttpRequest) -> tuple[Principal, Scope, OrgLimits] | None:
    """`_resolve` for an API key from what this process holds: the key, verified within its cache's
    TTL, and its org's limits. None when something must be read from the database."""
    raw_key = request.META.get(API_KEY_HEADER)
    found = api_key_cached(plaintext=raw_key.strip()) if raw_key is not None else None
    if found is None:
        return None
    key, membership = found
    limits = org_limits_cached(org_id=membership.org_id)
    if limits is None:
        return None
    principal = Principal(user=key.user, api_key=key, key_membership=membership)
    return principal, resolve_org_scope(principal, request.META.get(ORG_HEADER) or None), limits


def required_permission(request: HttpRequest) -> Permission:
    """The door's check; services check what their domain needs on top (configuring an assistant
    needs CONFIGURE_AGENTS, deleting a run MANAGE_ORG)."""
    if request.method in SAFE_METHODS:
        return Permission.READ
    if request.method == "POST" and request.path.endswith(READ_ONLY_POSTS):
        return Permission.READ
    if request.method == "POST" and JSON_RPC_PATHS.search(request.path):
        return Permission.READ
    return Permission.USE_AGENTS


def _has_atrium_credentials(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return API_KEY_HEADER in request.META or bool(user is not None and user.is_authenticated)


class AgentAuth:
    """Async ninja authentication; the lookups run in a worker thread, not on the event loop.

    With custom auth handlers configured (config.custom_auth), callers without an Atrium API key or
    session are identified by the deployment's `@auth.authenticate`, and every request then passes
    its `@auth.on` handler, which may only narrow what the scope already allows.
    """

    def __init__(self, *, authorize_resources: bool = True) -> None:
        # The project's own routes (config.custom_routes) touch no API resource: its handlers'
        # `@auth.authenticate` identifies their callers, and no `@auth.on` handler applies to them.
        self.authorize_resources = authorize_resources

    async def __call__(self, request: HttpRequest) -> Principal:
        handlers = custom_auth()  # 503 when configured but broken: fail closed
        await access_epoch_async()  # at most once a second: a key revoked elsewhere is not honoured
        if handlers is None and (known := _resolve_in_memory(request)) is not None:
            # A key this process verified lately: no database read, so no hop off the loop.
            await api_request_allow_async(known[1], known[2])
            known[1].require(required_permission(request))
            set_scope(known[1])
            set_handler_user(None)
            return known[0]
        handler_user = None
        principal = None
        if handlers is not None and handlers.authenticates:
            has_credentials = await sync_to_async(_has_atrium_credentials, thread_sensitive=False)(request)
            if not has_credentials:
                handler_user = await authenticate(handlers, request)
                user = await sync_to_async(with_live_connection(atrium_user_for), thread_sensitive=False)(
                    handler_user
                )
                principal = Principal(user=user)
        principal, scope = await sync_to_async(
            with_live_connection(_resolve_counted), thread_sensitive=False
        )(request, principal=principal)
        scope.require(required_permission(request))
        if handlers is not None and self.authorize_resources:
            scope = await authorize(
                handlers, request, scope, handler_user or user_from_scope(scope, principal.user)
            )
        set_scope(scope)
        set_handler_user(handler_user)  # runs created by this request run as the handler's user
        return principal


def not_found(what: str) -> NotFoundError:
    return NotFoundError(f"{what} not found.")
