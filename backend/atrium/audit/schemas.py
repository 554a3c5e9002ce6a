from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ninja import Schema


class AuditEventOut(Schema):
    id: uuid.UUID
    action: str
    actor_id: int | None
    actor_email: str
    target_type: str
    target_id: str
    data: dict[str, Any]
    created_at: datetime
