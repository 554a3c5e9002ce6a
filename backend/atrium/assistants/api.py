"""Assistants of an organisation (mounted under /orgs/{org})."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router

from atrium.assistants import selectors, services
from atrium.assistants.models import Assistant, AssistantVersion, OrgPolicy
from atrium.assistants.schemas import (
    AssistantIn,
    AssistantOut,
    AssistantPatchIn,
    AssistantVersionOut,
    GrantsIO,
    PolicyIO,
    SetLatestIn,
)

# The org slug is a path parameter of the router prefix; authentication has already resolved it.
PathStr = Annotated[str, Path()]

router = Router(tags=["assistants"])


@router.get("/assistants", response=list[AssistantOut])
def assistant_list(request: HttpRequest, org: PathStr, graph_id: str | None = None) -> list[Assistant]:
    return list(selectors.assistant_list(graph_id=graph_id))


@router.post("/assistants", response=AssistantOut)
def assistant_create(request: HttpRequest, org: PathStr, payload: AssistantIn) -> Assistant:
    return services.assistant_create(**payload.dict())


@router.get("/assistants/{assistant_id}", response=AssistantOut)
def assistant_get(request: HttpRequest, org: PathStr, assistant_id: str) -> Assistant:
    return selectors.assistant_get(assistant_id=assistant_id)


@router.patch("/assistants/{assistant_id}", response=AssistantOut)
def assistant_update(
    request: HttpRequest, org: PathStr, assistant_id: str, payload: AssistantPatchIn
) -> Assistant:
    return services.assistant_update(assistant_id=assistant_id, **payload.dict(exclude_unset=True))


@router.delete("/assistants/{assistant_id}", response={204: None})
def assistant_delete(request: HttpRequest, org: PathStr, assistant_id: str) -> HttpResponse:
    services.assistant_delete(assistant_id=assistant_id)
    return HttpResponse(status=204)


@router.get("/assistants/{assistant_id}/versions", response=list[AssistantVersionOut])
def assistant_versions(request: HttpRequest, org: PathStr, assistant_id: str) -> list[AssistantVersion]:
    return list(selectors.assistant_version_list(assistant_id=assistant_id))


@router.post("/assistants/{assistant_id}/latest", response=AssistantOut)
def assistant_set_latest(
    request: HttpRequest, org: PathStr, assistant_id: str, payload: SetLatestIn
) -> Assistant:
    return services.assistant_set_latest(assistant_id=assistant_id, version=payload.version)


# Admins' approvals. Reading them is for those who configure agents (they configure within them);
# writing them is for admins (the services check both).
@router.get("/policy", response=PolicyIO)
def policy_get(request: HttpRequest, org: PathStr) -> OrgPolicy:
    return selectors.org_policy_get()


@router.put("/policy", response=PolicyIO)
def policy_set(request: HttpRequest, org: PathStr, payload: PolicyIO) -> OrgPolicy:
    return services.org_policy_set(egress_hosts=payload.egress_hosts)


@router.get("/assistants/{assistant_id}/grants", response=GrantsIO)
def grants_get(request: HttpRequest, org: PathStr, assistant_id: str) -> dict[str, object]:
    assistant = selectors.assistant_grants_get(assistant_id=assistant_id)
    return {"secrets": assistant.granted_secrets, "audience": assistant.audience}


@router.put("/assistants/{assistant_id}/grants", response=GrantsIO)
def grants_set(request: HttpRequest, org: PathStr, assistant_id: str, payload: GrantsIO) -> dict[str, object]:
    assistant = services.assistant_grants_set(
        assistant_id=assistant_id, secrets=payload.secrets, audience=payload.audience
    )
    return {"secrets": assistant.granted_secrets, "audience": assistant.audience}
