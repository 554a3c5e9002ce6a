from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Schema


class SkillIn(Schema):
    files: dict[str, str]
    """Path in the skill's folder → text; `SKILL.md` is required and names the skill."""


class SkillOut(Schema):
    id: uuid.UUID
    name: str
    description: str
    assistant_id: uuid.UUID | None
    files: dict[str, str]
    created_at: datetime
    updated_at: datetime
