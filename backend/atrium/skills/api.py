"""Skills (mounted under /orgs/{org}): of the org, and of one assistant. Members read them; builders
write them (the door and the services)."""

from __future__ import annotations

import uuid
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Status

from atrium.skills import selectors, services
from atrium.skills.models import Skill
from atrium.skills.schemas import SkillIn, SkillOut

PathStr = Annotated[str, Path()]

router = Router(tags=["skills"])


@router.get("/skills", response=list[SkillOut])
def skill_list(request: HttpRequest, org: PathStr) -> list[Skill]:
    return list(selectors.skill_list())


@router.get("/skills/{name}", response=SkillOut)
def skill_get(request: HttpRequest, org: PathStr, name: str) -> Skill:
    return selectors.skill_get(name=name)


@router.post("/skills", response={201: SkillOut})
def skill_create(request: HttpRequest, org: PathStr, payload: SkillIn) -> Status[Skill]:
    return Status(201, services.skill_create(files=payload.files))


@router.put("/skills/{name}", response=SkillOut)
def skill_update(request: HttpRequest, org: PathStr, name: str, payload: SkillIn) -> Skill:
    return services.skill_update(name=name, files=payload.files)


@router.delete("/skills/{name}", response={204: None})
def skill_delete(request: HttpRequest, org: PathStr, name: str) -> HttpResponse:
    services.skill_delete(name=name)
    return HttpResponse(status=204)


@router.get("/assistants/{assistant_id}/skills", response=list[SkillOut])
def assistant_skill_list(request: HttpRequest, org: PathStr, assistant_id: uuid.UUID) -> list[Skill]:
    return list(selectors.skill_list(assistant_id=assistant_id))


@router.get("/assistants/{assistant_id}/skills/{name}", response=SkillOut)
def assistant_skill_get(request: HttpRequest, org: PathStr, assistant_id: uuid.UUID, name: str) -> Skill:
    return selectors.skill_get(name=name, assistant_id=assistant_id)


@router.post("/assistants/{assistant_id}/skills", response={201: SkillOut})
def assistant_skill_create(
    request: HttpRequest, org: PathStr, assistant_id: uuid.UUID, payload: SkillIn
) -> Status[Skill]:
    return Status(201, services.skill_create(files=payload.files, assistant_id=assistant_id))


@router.put("/assistants/{assistant_id}/skills/{name}", response=SkillOut)
def assistant_skill_update(
    request: HttpRequest, org: PathStr, assistant_id: uuid.UUID, name: str, payload: SkillIn
) -> Skill:
    return services.skill_update(name=name, files=payload.files, assistant_id=assistant_id)


@router.delete("/assistants/{assistant_id}/skills/{name}", response={204: None})
def assistant_skill_delete(
    request: HttpRequest, org: PathStr, assistant_id: uuid.UUID, name: str
) -> HttpResponse:
    services.skill_delete(name=name, assistant_id=assistant_id)
    return HttpResponse(status=204)
