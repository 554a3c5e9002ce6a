"""Writing the audit log. One call, from the service that makes the change, inside its transaction, so
an action is logged exactly when it happened (a rolled-back change leaves no event).

    from atrium.audit.services import audit_record
    audit_record(action="secret.read", target_type="secret", target_id=str(secret.id), data={"name": name})

`data` must never hold a secret value: names, ids and roles only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model

from atrium.audit.models import AuditEvent
from atrium.core.tenancy import current_scope_or_none


def audit_record(
    *,
    action: str,
    target_type: str = "",
    target_id: str | uuid.UUID | int = "",
    data: Mapping[str, Any] | None = None,
    org_id: uuid.UUID | None = None,
    actor_id: int | None = None,
) -> AuditEvent:
    """Record one action in the current scope's org, by the scope's user. Entry points without an org
    scope (the Django admin) name the org and the actor explicitly."""
    scope = current_scope_or_none()
    org = org_id or (scope.org_id if scope is not None else None)
    if org is None:
        raise ValueError("An audit event belongs to an org: set a scope or pass org_id.")
    actor = actor_id if actor_id is not None else (scope.user_id if scope is not None else None)
    email = ""
    if actor is not None:
        email = get_user_model().objects.filter(pk=actor).values_list("email", flat=True).first() or ""
    return AuditEvent.unscoped.create(
        org_id=org,
        actor_id=actor,
        actor_email=email,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        data=dict(data or {}),
    )
