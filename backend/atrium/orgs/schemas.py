from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Schema
from pydantic import Field

from atrium.core.tenancy import Role


class OrgIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=64)


class OrgPatchIn(Schema):
    name: str = Field(min_length=1, max_length=200)


class OrgOut(Schema):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


class UserRefOut(Schema):
    id: int
    email: str
    name: str


class MemberIn(Schema):
    email: str = Field(min_length=3, max_length=254)
    role: Role = Role.END_USER
    name: str = Field(default="", max_length=200)


class MemberPatchIn(Schema):
    role: Role


class MemberOut(Schema):
    id: uuid.UUID
    user: UserRefOut
    role: Role
    created_at: datetime


class ApiKeyIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    user_email: str | None = Field(default=None, description="Act as this member; defaults to the caller.")


class ApiKeyOut(Schema):
    id: uuid.UUID
    name: str
    prefix: str
    user: UserRefOut
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret. Shown once: it is not stored and cannot be shown again.")


class WebhookSecretOut(Schema):
    secret: str = Field(description="whsec_<base64>: verify `webhook-signature` with it (Standard Webhooks).")
