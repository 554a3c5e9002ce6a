from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Field, Schema


class McpServerIn(Schema):
    name: str = Field(min_length=1, max_length=64)
    transport: str = Field(default="streamable_http", max_length=20)
    url: str = Field(default="", max_length=1000)
    command: list[str] = Field(default_factory=list, max_length=50)
    oauth_provider: str | None = Field(default=None, max_length=64, description="An OAuth provider's slug.")
    scopes: list[str] = Field(default_factory=list, max_length=100)
    enabled: bool = True


class McpServerPatchIn(Schema):
    transport: str | None = Field(default=None, max_length=20)
    url: str | None = Field(default=None, max_length=1000)
    command: list[str] | None = Field(default=None, max_length=50)
    oauth_provider: str | None = Field(default=None, max_length=64, description='"" removes it.')
    scopes: list[str] | None = Field(default=None, max_length=100)
    enabled: bool | None = None


class McpServerOut(Schema):
    id: uuid.UUID
    name: str
    transport: str
    url: str
    command: list[str]
    oauth_provider: str | None
    scopes: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime
