from __future__ import annotations

import uuid

from ninja import Schema
from pydantic import Field

from atrium.core.tenancy import Permission, Role


class LoginIn(Schema):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class OrgRefOut(Schema):
    id: uuid.UUID
    slug: str
    name: str


class MembershipRefOut(Schema):
    org: OrgRefOut
    role: Role
    permissions: list[Permission] = Field(
        description="What this role may do here; the web app shows each member only what they can do."
    )


class MeOut(Schema):
    id: int
    email: str
    name: str
    is_staff: bool
    is_superuser: bool
    memberships: list[MembershipRefOut]


class CsrfOut(Schema):
    csrf_token: str


class SsoProviderOut(Schema):
    slug: str
    name: str
    login_url: str
