from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class AssistantIn(Schema):
    graph_id: str = Field(min_length=1, max_length=200)
    name: str = Field(default="Untitled", min_length=1, max_length=200)
    description: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


class AssistantPatchIn(Schema):
    graph_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class AssistantOut(Schema):
    id: uuid.UUID
    graph_id: str
    name: str
    description: str | None
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    version: int
    audience: Literal["everyone", "team"]
    created_at: datetime
    updated_at: datetime


class AssistantVersionOut(Schema):
    version: int
    graph_id: str
    name: str
    description: str | None
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime


class SetLatestIn(Schema):
    version: int = Field(ge=1, le=2**31 - 1)


class PolicyIO(Schema):
    """What the org's admins approve for every assistant (atrium.assistants.policy)."""

    egress_hosts: list[str] = Field(
        default_factory=list,
        max_length=200,
        description='Hosts sandboxes may reach: "api.example.com", or "*.example.com" for its subdomains.',
    )


class GrantsIO(Schema):
    """An admin's grants to one assistant."""

    secrets: list[str] = Field(
        default_factory=list, max_length=200, description="Workspace secrets the assistant's runs receive."
    )
    audience: Literal["everyone", "team"] = Field(
        default="everyone", description="`team`: only builders and admins may see and use the assistant."
    )
