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
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models

from atrium.core.errors import PermissionDeniedError
from atrium.core.metadata_filter import filter_q

if TYPE_CHECKING:
    from django.db.models.query import QuerySet


class Role(models.TextChoices):
    """Membership roles, weakest first. viewer reads; editor changes; admin manages the org."""

    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


_ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


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

    def require(self, required: Role) -> None:
        if self.system:
            return
        if self.role is None or not self.role.allows(required):
            raise PermissionDeniedError(
                f"This action needs the {required.label.lower()} role in this organisation."
            )

    @property
    def org(self) -> uuid.UUID:
        """The scope's organisation; raises for user-level and system scopes."""
        if self.org_id is None:
            raise ScopeMissingError("This operation needs an organisation scope.")
        return self.org_id

    def has(self, required: Role) -> bool:
        return self.system or (self.role is not None and self.role.allows(required))

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
