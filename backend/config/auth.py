"""Authentication and tenancy scope for the APIs: the single entry point that sets the scope.

A request is identified by an API key (`x-api-key`, what the SDKs send) or by the Django session
(browsers; CSRF is enforced on unsafe methods). Org-level operations then resolve the caller's
membership in the org named by the URL (`{org}`) or bound to the API key:

- not a member, or an API key of another org  -> 404, as if the org did not exist;
- a member whose role is too weak              -> 403;
- a member past the org's API rate limits   -> 429 with Retry-After (atrium.orgs.limits);
- otherwise the scope is set for the rest of the request.

Unless a router asks for another permission, safe methods need `Permission.READ` and unsafe ones
`Permission.MANAGE_ORG`, so a new endpoint that forgets to declare one is open to admins only; the
services check the permission their domain needs again (`scope.require`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.utils import check_csrf

from atrium.accounts.models import User
from atrium.core.errors import NotAuthenticatedError, NotFoundError, PermissionDeniedError
from atrium.core.tenancy import Permission, Role, Scope, set_scope
from atrium.orgs.limits import api_request_allow
from atrium.orgs.models import ApiKey, Membership
from atrium.orgs.selectors import membership_for_user_in_org
from atrium.orgs.services import api_key_authenticate

API_KEY_HEADER = "HTTP_X_API_KEY"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    user: User
    api_key: ApiKey | None = None
    key_membership: Membership | None = None


def identify(request: HttpRequest) -> Principal:
    """Who is calling. Raises NotAuthenticatedError; never falls back from a bad key to the session."""
    raw_key = request.META.get(API_KEY_HEADER)
    if raw_key is not None:
        found = api_key_authenticate(plaintext=raw_key.strip())
        if found is None:
            raise NotAuthenticatedError("Invalid or revoked API key.", code="invalid_api_key")
        key, membership = found
        return Principal(user=key.user, api_key=key, key_membership=membership)
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        raise NotAuthenticatedError("Authentication required.")
    if request.method not in SAFE_METHODS and check_csrf(request) is not None:
        raise PermissionDeniedError("CSRF check failed: send the X-CSRFToken header.", code="csrf_failed")
    return Principal(user=user)


def resolve_org_scope(principal: Principal, org_slug: str | None) -> Scope:
    """The scope of `principal` in the org named `org_slug` (or the API key's org when None)."""
    if principal.key_membership is not None:
        membership = principal.key_membership
        if org_slug is not None and membership.org.slug != org_slug:
            raise NotFoundError("Organisation not found.")
    else:
        if org_slug is None:
            raise NotFoundError("Organisation not found.")
        found = membership_for_user_in_org(user_id=principal.user.id, org_slug=org_slug)
        if found is None:
            raise NotFoundError("Organisation not found.")
        membership = found
    return Scope(
        user_id=principal.user.id,
        org_id=membership.org_id,
        org_slug=membership.org.slug,
        role=Role(membership.role),
    )


class UserAuth:
    """Any authenticated user, no organisation (e.g. `me`, creating an org)."""

    def __call__(self, request: HttpRequest) -> Principal:
        principal = identify(request)
        set_scope(Scope(user_id=principal.user.id))
        return principal


class OrgAuth:
    """A member of the org in the URL (`org` path parameter) holding `permission` (by default READ
    for safe methods and MANAGE_ORG for others)."""

    def __init__(self, permission: Permission | None = None, *, write: Permission | None = None) -> None:
        self.permission = permission
        self.write = write

    def __call__(self, request: HttpRequest) -> Principal:
        principal = identify(request)
        match = request.resolver_match
        org_slug = match.kwargs.get("org") if match is not None else None
        scope = resolve_org_scope(principal, org_slug)
        if self.permission is not None:
            required = self.permission
        elif request.method in SAFE_METHODS:
            required = Permission.READ
        else:
            required = self.write or Permission.MANAGE_ORG
        scope.require(required)
        api_request_allow(scope)
        set_scope(scope)
        return principal
