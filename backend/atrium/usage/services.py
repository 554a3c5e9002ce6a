"""Budgets: set by org admins, enforced when a run is created (here) and before each model call
(atrium.usage.recorder, in the worker)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from atrium.accounts.models import User
from atrium.audit.services import audit_record
from atrium.core.errors import NotFoundError
from atrium.core.metrics import budget_exceeded
from atrium.core.tenancy import Permission, Scope, current_scope
from atrium.orgs.models import Membership
from atrium.usage.budgets import BudgetExceededError, first_exceeded, spent_shown
from atrium.usage.models import Budget
from atrium.usage.selectors import budget_states

# Whether each org has any budget, as this process last read it (until the monotonic time given): an
# org without budgets, the common case, costs run creation no query. A change made in this process
# applies at once, one made in another within ATRIUM_LIMITS_CACHE_SECONDS; the worker's check before
# each model call reads Postgres regardless.
_org_has_budgets: dict[uuid.UUID, tuple[float, bool]] = {}


def _has_budgets(org_id: uuid.UUID) -> bool:
    cached = _org_has_budgets.get(org_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    found = Budget.objects.exists()
    _org_has_budgets[org_id] = (time.monotonic() + settings.ATRIUM_LIMITS_CACHE_SECONDS, found)
    return found


def budget_set(*, user_id: int | None, period: str, metric: str, limit: Decimal) -> Budget:
    """Create or change the org's budget (`user_id` None) or a member's, for one period and metric."""
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    if user_id is not None and not Membership.objects.filter(user__id=user_id).exists():
        raise NotFoundError("No member of this organisation has that user id.")
    _org_has_budgets.pop(scope.org, None)
    with transaction.atomic():
        budget, created = Budget.objects.select_for_update().get_or_create(
            org_id=scope.org, user=_user(user_id), period=period, metric=metric, defaults={"limit": limit}
        )
        if not created and budget.limit != limit:
            budget.limit = limit
            budget.save(update_fields=["limit", "updated_at"])
        audit_record(
            action="budget.set",
            target_type="budget",
            target_id=budget.id,
            data={"user_id": user_id, "period": period, "metric": metric, "limit": str(limit)},
        )
    return budget


def _user(user_id: int | None) -> User | None:
    return None if user_id is None else User.objects.get(id=user_id)


def budget_delete(*, budget_id: uuid.UUID) -> None:
    scope = current_scope()
    scope.require(Permission.MANAGE_ORG)
    _org_has_budgets.pop(scope.org, None)
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(id=budget_id).first()
        if budget is None:
            raise NotFoundError("Budget not found.")
        audit_record(
            action="budget.delete",
            target_type="budget",
            target_id=budget.id,
            data={"user_id": budget.user_id, "period": budget.period, "metric": budget.metric},
        )
        budget.delete()


def usage_run_allow(scope: Scope, *, command: Mapping[str, Any] | None = None) -> None:
    """Refuse a new run while a budget of the org or of the scope's member is spent.

    A run that only resumes an interrupted thread (`command` with `resume` alone) goes through: the
    budget is checked again before its next model call, where the deep agent pauses the thread again
    (docs/adr/0024-usage-and-budgets.md) and other graphs end with `BudgetExceeded`; refusing it here
    would leave a thread paused for a budget unable to go on once an admin raises it."""
    if scope.system or scope.org_id is None or not _has_budgets(scope.org_id):
        return
    if command and set(command) == {"resume"}:
        return
    spent = first_exceeded(budget_states(user_id=scope.user_id))
    if spent is None:
        return
    budget_exceeded.inc(
        org=str(scope.org_id), scope="user" if spent.user_id is not None else "org", at="run_start"
    )
    raise BudgetExceededError(spent.message(spent.spent() if spent_shown(spent, scope.role) else None))
