"""Reading the audit log: org admins only."""

from __future__ import annotations

from django.db.models import QuerySet

from atrium.audit.models import AuditEvent
from atrium.core.tenancy import Permission, current_scope


def audit_event_list(*, action: str | None = None) -> QuerySet[AuditEvent]:
    current_scope().require(Permission.MANAGE_ORG)
    events = AuditEvent.objects.order_by("-created_at")
    if action:
        events = events.filter(action=action)
    return events
