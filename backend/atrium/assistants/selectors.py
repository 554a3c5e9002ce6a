"""Reads on assistants, always within the current org."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from atrium.assistants.models import Assistant, AssistantVersion, Audience, OrgPolicy
from atrium.assistants.policy import Approvals
from atrium.core.errors import NotFoundError
from atrium.core.tenancy import Permission, current_scope
from atrium.credentials.models import OAuthProvider
from atrium.mcp_servers.selectors import mcp_server_names_enabled


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFoundError("Assistant not found.") from exc


def assistant_queryset() -> QuerySet[Assistant]:
    """The org's assistants the caller may see: less those an authorization handler's filter hides from
    this request, and, for those who do not configure agents, less the ones kept to the team."""
    scope = current_scope()
    queryset = scope.narrow(Assistant.objects.all(), "assistants")
    if not scope.has(Permission.CONFIGURE_AGENTS):
        queryset = queryset.filter(audience=Audience.EVERYONE)
    return queryset


def assistant_get(*, assistant_id: uuid.UUID | str) -> Assistant:
    try:
        return assistant_queryset().get(id=_as_uuid(assistant_id))
    except Assistant.DoesNotExist as exc:
        raise NotFoundError("Assistant not found.") from exc


def assistant_list(
    *, graph_id: str | None = None, name: str | None = None, metadata: dict[str, Any] | None = None
) -> QuerySet[Assistant]:
    queryset = assistant_queryset()
    if graph_id:
        queryset = queryset.filter(graph_id=graph_id)
    if name:
        queryset = queryset.filter(name__icontains=name)
    if metadata:
        queryset = queryset.filter(metadata__contains=metadata)
    return queryset.order_by("-created_at")


def assistant_version_list(*, assistant_id: uuid.UUID | str) -> QuerySet[AssistantVersion]:
    assistant = assistant_get(assistant_id=assistant_id)
    return AssistantVersion.objects.filter(assistant=assistant).order_by("-version")


def assistant_grants_get(*, assistant_id: uuid.UUID | str) -> Assistant:
    current_scope().require(Permission.CONFIGURE_AGENTS)
    return assistant_get(assistant_id=assistant_id)


def org_policy_get() -> OrgPolicy:
    """The org's policy (unsaved and empty when its admins approved nothing yet)."""
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    return OrgPolicy.objects.filter(org_id=scope.org).first() or OrgPolicy(org_id=scope.org)


def assistant_approvals(*, granted_secrets: list[str]) -> Approvals:
    """What the org's admins approved, for an assistant holding `granted_secrets`."""
    policy = OrgPolicy.objects.filter(org_id=current_scope().org).first()
    providers = OAuthProvider.objects.values_list("slug", "api_base_urls")
    return Approvals(
        egress_hosts=tuple(policy.egress_hosts if policy else ()),
        provider_base_urls={slug: tuple(urls or ()) for slug, urls in providers},
        secrets=frozenset(granted_secrets),
        mcp_servers=mcp_server_names_enabled(),
    )
