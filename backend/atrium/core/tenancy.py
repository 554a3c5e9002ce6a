"""Tenancy, enforced in one place that fails closed.

Every org-owned model's default manager is an `OrgScopedManager`: its querysets are filtered to the
organisation of the *current scope*, and asking for one with no scope set raises `ScopeMissingError`
instead of returning every tenant's rows. The scope is set only at entry points (API authentication,
Celery task wrappers, management commands) and reset after each request by
`atrium.core.middleware.TenancyScopeMiddleware`. There is no "current org" fallback.

`unscoped` managers exist for the few reads that are not per-org by nature (a user's own memberships
across orgs, the admin's explicit filtering); using one is a visible, greppable decision.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models

from atrium.core.errors import PermissionDeniedError
from atrium.core.metadata_filter import filter_q

if TYPE_CHECKING:
    from django.db.models.query import QuerySet


class Role(models.TextChoices):
    """Membership roles. They are not one ladder: each is a set of `Permission`s (`ROLE_PERMISSIONS`).

    viewer monitors read-only; end_user uses the agents (the default for new members); builder
    configures agents within the policy admins set, and uses them; admin manages the org.
    """

    VIEWER = "viewer", "Viewer"
    END_USER = "end_user", "End user"
    BUILDER = "builder", "Builder"
    ADMIN = "admin", "Admin"


class Permission(StrEnum):
    """What a member may do. Every check names one of these, never a role."""

    READ = "read"
    """See the org, its members and assistants."""
    USE_AGENTS = "use_agents"
    """Chat: own threads and runs, own memory, own connections, on assistants open to them."""
    CONFIGURE_AGENTS = "configure_agents"
    """Create and change assistants, crons and webhooks, within the org's policy."""
    MANAGE_ORG = "manage_org"
    """Members, API keys, workspace secrets, OAuth providers, policy; every thread of the org."""


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.END_USER: frozenset({Permission.READ, Permission.USE_AGENTS}),
    Role.BUILDER: frozenset({Permission.READ, Permission.USE_AGENTS, Permission.CONFIGURE_AGENTS}),
    Role.ADMIN: frozenset(Permission),
}

_PERMISSION_WORDS = {
    Permission.READ: "read this organisation",
    Permission.USE_AGENTS: "use agents",
    Permission.CONFIGURE_AGENTS: "configure agents (the builder role)",
    Permission.MANAGE_ORG: "manage the organisation (the admin role)",
}


# Names operators may still write in settings and commands: `editor` was the builder role's old name.
LEGACY_ROLE_NAMES: Mapping[str, Role] = {"editor": Role.BUILDER}


def role_from_setting(value: str) -> Role:
    """A role named in a setting or a command line, old names included; ValueError otherwise."""
    return LEGACY_ROLE_NAMES.get(value) or Role(value)


def role_permissions(role: Role | str | None) -> frozenset[Permission]:
    """The permissions of `role`; an unknown or missing role has none (fails closed)."""
    if role is None or role not in Role.values:
        return frozenset()
    return ROLE_PERMISSIONS[Role(role)]


_M = TypeVar("_M", bound=models.Model)


class ScopeMissingError(RuntimeError):
    """An org-owned table was queried outside any tenancy scope: a bug, never a user error."""


@dataclass(frozen=True)
class Narrowing:
    """A metadata filter an authorization handler returned for this request, on one resource
    (`threads` — runs go with their thread —, `assistants` or `crons`). It only ever removes rows."""

    resource: str
    filter: Mapping[str, Any]


@dataclass(frozen=True)
class Scope:
    """Who is acting, and in which organisation.

    `org_id` is None for user-level requests (e.g. "me"); `system` scopes (beat jobs, operator commands)
    see every org and must be entered explicitly with `system_scope()`.
    """

    user_id: int | None
    org_id: uuid.UUID | None = None
    org_slug: str | None = None
    role: Role | None = None
    system: bool = False
    narrowing: Narrowing | None = None

    def require(self, required: Permission) -> None:
        if not self.has(required):
            raise PermissionDeniedError(f"You may not {_PERMISSION_WORDS[required]} here.")

    @property
    def org(self) -> uuid.UUID:
        """The scope's organisation; raises for user-level and system scopes."""
        if self.org_id is None:
            raise ScopeMissingError("This operation needs an organisation scope.")
        return self.org_id

    def has(self, required: Permission) -> bool:
        return self.system or required in role_permissions(self.role)

    @property
    def permissions(self) -> frozenset[Permission]:
        return frozenset(Permission) if self.system else role_permissions(self.role)

    def narrow(self, queryset: QuerySet[_M], resource: str) -> QuerySet[_M]:
        """`queryset` less the rows an authorization handler's filter excludes for `resource`."""
        if self.narrowing is None or self.narrowing.resource != resource:
            return queryset
        return queryset.filter(filter_q(self.narrowing.filter))


_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("atrium_scope", default=None)


def current_scope() -> Scope:
    scope = _current.get()
    if scope is None:
        raise ScopeMissingError("No tenancy scope is set; set one at the entry point.")
    return scope


def current_scope_or_none() -> Scope | None:
    return _current.get()


def set_scope(scope: Scope | None) -> contextvars.Token[Scope | None]:
    return _current.set(scope)


def reset_scope(token: contextvars.Token[Scope | None]) -> None:
    _current.reset(token)


@contextmanager
def scoped(scope: Scope) -> Iterator[Scope]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def system_scope() -> AbstractContextManager[Scope]:
    """For operator commands and periodic jobs that legitimately span organisations."""
    return scoped(Scope(user_id=None, system=True))


class OrgScopedManager(models.Manager[_M], Generic[_M]):
    """Default manager of org-owned models: filtered to the current scope's org, failing closed."""

    def get_queryset(self) -> QuerySet[_M]:
        scope = current_scope()
        queryset = super().get_queryset()
        if scope.system:
            return queryset
        if scope.org_id is None:
            raise ScopeMissingError(f"{self.model.__name__} is org-owned; this scope has no organisation.")
        return queryset.filter(org_id=scope.org_id)


class OrgOwnedModel(models.Model):
    """Base for every model that belongs to one organisation."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")

    unscoped = models.Manager()
    objects = OrgScopedManager()

    class Meta:
        abstract = True
        # Django's internals (FK traversal, cascades) use the base manager; they need no scope.
        base_manager_name = "unscoped"
        default_manager_name = "objects"
