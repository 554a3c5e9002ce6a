"""The org's audit log, read-only, for its admins."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Query, Router
from pydantic import Field

from atrium.audit.models import AuditEvent
from atrium.audit.schemas import AuditEventOut
from atrium.audit.selectors import audit_event_list

router = Router(tags=["audit"])
PathStr = Annotated[str, Path()]


@router.get("/audit-events", response=list[AuditEventOut])
def audit_events(
    request: HttpRequest,
    org: PathStr,
    action: str | None = None,
    limit: Annotated[int, Query(), Field(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(), Field(ge=0, le=2**31 - 1)] = 0,
) -> list[AuditEvent]:
    return list(audit_event_list(action=action)[offset : offset + limit])
