"""Authentication for the Agent Server API: API key (the SDKs' `x-api-key`) or the browser session.

An API key belongs to one org. A session user names the org with the `X-Atrium-Org` header (the web
app sends it); a user with a single membership may omit it. Then the scope is set exactly as for the
control plane (config.auth), and the role rule is the same: safe methods need viewer, writes editor.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from atrium.core.errors import AtriumError, NotFoundError
from atrium.core.tenancy import Role, Scope, set_scope
from atrium.orgs.selectors import membership_list_for_user
from config.auth import SAFE_METHODS, Principal, identify, resolve_org_scope

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


def _resolve(request: HttpRequest) -> tuple[Principal, Scope]:
    principal = identify(request)
    slug = request.META.get(ORG_HEADER) or None
    if principal.key_membership is None and slug is None:
        memberships = list(membership_list_for_user(user=principal.user)[:2])
        if len(memberships) != 1:
            raise AtriumError(
                "Name the organisation with the X-Atrium-Org header.", code="organisation_required"
            )
        slug = memberships[0].org.slug
    return principal, resolve_org_scope(principal, slug)


def required_role(request: HttpRequest) -> Role:
    if request.method in SAFE_METHODS:
        return Role.VIEWER
    if request.method == "POST" and request.path.endswith(READ_ONLY_POSTS):
        return Role.VIEWER
    return Role.EDITOR


class AgentAuth:
    """Async ninja authentication; the lookups run in a worker thread, not on the event loop."""

    async def __call__(self, request: HttpRequest) -> Principal:
        principal, scope = await sync_to_async(_resolve, thread_sensitive=False)(request)
        scope.require(required_role(request))
        set_scope(scope)
        return principal


def not_found(what: str) -> NotFoundError:
    return NotFoundError(f"{what} not found.")
