"""API shapes. No `Out` schema carries a secret (a test asserts it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Schema
from pydantic import Field


class SecretIn(Schema):
    value: str = Field(min_length=1, max_length=16_384)
    description: str = Field(default="", max_length=500)


class SecretOut(Schema):
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


class ProviderIn(Schema):
    slug: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(default="", max_length=200)
    authorize_url: str = Field(max_length=1000)
    token_url: str = Field(max_length=1000)
    revocation_url: str = Field(default="", max_length=1000)
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str | None = Field(default=None, max_length=16_384)
    default_scopes: list[str] = Field(default_factory=list, max_length=100)
    api_base_urls: list[str] = Field(default_factory=list, max_length=100)


class ProviderPatchIn(Schema):
    name: str | None = Field(default=None, max_length=200)
    authorize_url: str | None = Field(default=None, max_length=1000)
    token_url: str | None = Field(default=None, max_length=1000)
    revocation_url: str | None = Field(default=None, max_length=1000)
    client_id: str | None = Field(default=None, max_length=500)
    client_secret: str | None = Field(default=None, max_length=16_384)
    default_scopes: list[str] | None = Field(default=None, max_length=100)
    api_base_urls: list[str] | None = Field(default=None, max_length=100)


class ProviderOut(Schema):
    id: uuid.UUID
    slug: str
    name: str
    authorize_url: str
    token_url: str
    revocation_url: str
    client_id: str
    has_client_secret: bool
    default_scopes: list[str]
    api_base_urls: list[str]
    redirect_uri: str
    created_at: datetime


class ConnectionOut(Schema):
    id: uuid.UUID
    provider_id: uuid.UUID
    provider_slug: str
    provider_name: str
    user_email: str
    scopes: list[str]
    status: str
    expires_at: datetime | None
    refreshed_at: datetime | None
    created_at: datetime


class AuthorizeIn(Schema):
    scopes: list[str] = Field(default_factory=list, max_length=100)


class AuthorizeOut(Schema):
    authorization_url: str
