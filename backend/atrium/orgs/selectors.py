"""Reads on organisations, memberships and API keys."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from atrium.accounts.models import User
from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Permission, current_scope
from atrium.orgs.models import ApiKey, Membership, Organization, OrgSettings


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    """A user's own memberships across organisations: per-user by nature, not per-org."""
    return Membership.unscoped.filter(user=user).select_related("org").order_by("org__slug")


def membership_for_user_in_org(*, user_id: int, org_slug: str) -> Membership | None:
    """The membership an entry point turns into a scope; None means the org is invisible to the user."""
    return Membership.unscoped.select_related("org").filter(user_id=user_id, org__slug=org_slug).first()


def org_get_current() -> Organization:
    scope = current_scope()
    try:
        return Organization.objects.get(id=scope.org)
    except Organization.DoesNotExist as exc:
        raise NotFoundError("Organisation not found.") from exc


def membership_list() -> QuerySet[Membership]:
    return Membership.objects.select_related("user").order_by("created_at")


def api_key_list() -> QuerySet[ApiKey]:
    """Keys are managed by admins; the list shows who holds which key, so it is admin-only too."""
    current_scope().require(Permission.MANAGE_ORG)
    return ApiKey.objects.select_related("user").order_by("-created_at")


def org_settings_get(*, org_id: uuid.UUID) -> OrgSettings | None:
    """An org's settings row (None: all defaults). Read by the runtime's entry points (rate limits, the
    webhook task) for a known org, hence unscoped."""
    return OrgSettings.unscoped.filter(org_id=org_id).first()


def caller_still_allowed(*, org_id: uuid.UUID, user_id: int, api_key_id: uuid.UUID | None) -> bool:
    """Whether a caller checked earlier (an open stream's) still has access: still a member of the org
    with an active account, and, when they came with an API key, the key is not revoked. Unscoped: it
    runs outside any request's scope."""
    if not Membership.unscoped.filter(org_id=org_id, user_id=user_id, user__is_active=True).exists():
        return False
    return api_key_id is None or ApiKey.unscoped.filter(id=api_key_id, revoked_at__isnull=True).exists()
