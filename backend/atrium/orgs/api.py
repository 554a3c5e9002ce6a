"""Organisations, their members and API keys."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router

from atrium.accounts.models import User
from atrium.core.errors import NotFoundError
from atrium.orgs import selectors, services
from atrium.orgs.models import ApiKey, Membership, Organization
from atrium.orgs.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    MemberIn,
    MemberOut,
    MemberPatchIn,
    OrgIn,
    OrgOut,
    OrgPatchIn,
    WebhookSecretOut,
)

# The org slug is a path parameter of the router prefix; authentication has already resolved it.
PathStr = Annotated[str, Path()]

# Mounted at /orgs with user-level authentication: listing and creating organisations.
user_router = Router(tags=["orgs"])
# Mounted at /orgs/{org} with org-level authentication: the scope is that org.
org_router = Router(tags=["orgs"])


@user_router.get("", response=list[OrgOut])
def org_list(request: HttpRequest) -> list[Organization]:
    return [m.org for m in selectors.membership_list_for_user(user=request.auth.user)]  # type: ignore[attr-defined]


@user_router.post("", response=OrgOut)
def org_create(request: HttpRequest, payload: OrgIn) -> Organization:
    return services.org_create(creator=request.auth.user, name=payload.name, slug=payload.slug)  # type: ignore[attr-defined]


@org_router.get("", response=OrgOut)
def org_get(request: HttpRequest, org: PathStr) -> Organization:
    return selectors.org_get_current()


@org_router.patch("", response=OrgOut)
def org_update(request: HttpRequest, org: PathStr, payload: OrgPatchIn) -> Organization:
    return services.org_update(name=payload.name)


@org_router.get("/members", response=list[MemberOut])
def member_list(request: HttpRequest, org: PathStr) -> list[Membership]:
    return list(selectors.membership_list())


@org_router.post("/members", response=MemberOut)
def member_add(request: HttpRequest, org: PathStr, payload: MemberIn) -> Membership:
    return services.membership_add(email=payload.email, role=payload.role, name=payload.name)


@org_router.patch("/members/{member_id}", response=MemberOut)
def member_update(request: HttpRequest, org: PathStr, member_id: str, payload: MemberPatchIn) -> Membership:
    return services.membership_update_role(membership_id=member_id, role=payload.role)


@org_router.delete("/members/{member_id}", response={204: None})
def member_remove(request: HttpRequest, org: PathStr, member_id: str) -> HttpResponse:
    services.membership_remove(membership_id=member_id)
    return HttpResponse(status=204)


@org_router.get("/api-keys", response=list[ApiKeyOut])
def api_key_list(request: HttpRequest, org: PathStr) -> list[ApiKey]:
    return list(selectors.api_key_list())


@org_router.post("/api-keys", response=ApiKeyCreatedOut)
def api_key_create(request: HttpRequest, org: PathStr, payload: ApiKeyIn) -> dict[str, object]:
    user: User = request.auth.user  # type: ignore[attr-defined]
    if payload.user_email:
        member = selectors.membership_list().filter(user__email=payload.user_email.strip().lower()).first()
        if member is None:
            raise NotFoundError("Member not found.")
        user = member.user
    key, plaintext = services.api_key_create(user=user, name=payload.name)
    return {**ApiKeyOut.from_orm(key).dict(), "key": plaintext}


@org_router.delete("/api-keys/{key_id}", response={204: None})
def api_key_revoke(request: HttpRequest, org: PathStr, key_id: str) -> HttpResponse:
    services.api_key_revoke(key_id=key_id)
    return HttpResponse(status=204)


@org_router.get("/webhook-secret", response=WebhookSecretOut)
def webhook_secret_get(request: HttpRequest, org: PathStr) -> dict[str, str]:
    """The secret receivers verify webhook signatures with (Standard Webhooks). Admins only; audited."""
    return {"secret": services.org_webhook_secret_reveal()}


@org_router.post("/webhook-secret/rotate", response=WebhookSecretOut)
def webhook_secret_rotate(request: HttpRequest, org: PathStr) -> dict[str, str]:
    return {"secret": services.org_webhook_secret_rotate()}
