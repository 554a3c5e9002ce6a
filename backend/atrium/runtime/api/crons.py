"""Crons: runs created on a schedule (§1.6). The scheduler itself is `services.crons.cron_tick`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router
from pydantic import Field

from atrium.runtime.api.common import call, json_response, no_content, paginated, path_uuid
from atrium.runtime.api.schemas import Body, Offset, StreamModeName
from atrium.runtime.models import Cron
from atrium.runtime.selectors.crons import cron_get, cron_page, cron_search
from atrium.runtime.selectors.wire import select_fields
from atrium.runtime.services import crons as services

router = Router(tags=["crons"])

Nodes = Literal["*"] | list[str] | None


class CronPayloadFields(Body):
    """The run-create fields a cron replays on each tick (§3)."""

    input: Any = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    interrupt_before: Nodes = None
    interrupt_after: Nodes = None
    webhook: str | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    checkpoint_during: bool | None = None

    def payload(self) -> dict[str, Any]:
        """The fields the client sent, `checkpoint_during` mapped to `durability` as for runs."""
        sent = self.model_dump(include=self.model_fields_set & set(services.PAYLOAD_FIELDS))
        if "durability" not in sent and self.checkpoint_during is not None:
            sent["durability"] = "async" if self.checkpoint_during else "exit"
        return sent


class CronCreateIn(CronPayloadFields):
    assistant_id: str
    schedule: str
    metadata: dict[str, Any] | None = None
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] | None = None
    end_time: datetime | None = None
    enabled: bool | None = None
    timezone: str | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    if_not_exists: Literal["reject", "create"] | None = None

    def payload(self) -> dict[str, Any]:
        sent = super().payload()
        if self.multitask_strategy is not None:
            sent["multitask_strategy"] = self.multitask_strategy
        return sent


class CronPatchIn(CronPayloadFields):
    schedule: str | None = None
    end_time: datetime | None = None
    metadata: dict[str, Any] | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    enabled: bool | None = None
    timezone: str | None = None


class CronSearchIn(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: (
        Literal[
            "cron_id", "assistant_id", "thread_id", "created_at", "updated_at", "next_run_date", "end_time"
        ]
        | None
    ) = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class CronCountIn(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None


def cron_out(cron: Cron) -> dict[str, Any]:
    return {
        "cron_id": str(cron.id),
        "assistant_id": str(cron.assistant_id),
        "thread_id": str(cron.thread_id) if cron.thread_id else None,
        "user_id": str(cron.user_id),
        "schedule": cron.schedule,
        "timezone": cron.timezone,
        "end_time": cron.end_time.isoformat() if cron.end_time else None,
        "enabled": cron.enabled,
        "on_run_completed": cron.on_run_completed,
        "payload": cron.payload,
        "metadata": cron.metadata,
        "next_run_date": cron.next_run_date.isoformat() if cron.next_run_date else None,
        "created_at": cron.created_at.isoformat(),
        "updated_at": cron.updated_at.isoformat(),
    }


async def _create(payload: CronCreateIn, thread_id: uuid.UUID | None) -> HttpResponse:
    cron = await call(services.cron_create)(
        assistant_id=payload.assistant_id,
        schedule=payload.schedule,
        payload=payload.payload(),
        thread_id=thread_id,
        metadata=payload.metadata,
        timezone=payload.timezone,
        end_time=payload.end_time,
        enabled=payload.enabled if payload.enabled is not None else True,
        on_run_completed=None if thread_id else payload.on_run_completed,
        if_not_exists=payload.if_not_exists or "reject",
    )
    return json_response(cron_out(cron))


@router.post("/threads/{thread_id}/runs/crons")
async def cron_create_for_thread(request: HttpRequest, thread_id: str, payload: CronCreateIn) -> HttpResponse:
    return await _create(payload, path_uuid(thread_id, "thread"))


@router.post("/runs/crons")
async def cron_create(request: HttpRequest, payload: CronCreateIn) -> HttpResponse:
    return await _create(payload, None)


@router.post("/runs/crons/search")
async def cron_search_view(request: HttpRequest, payload: CronSearchIn) -> HttpResponse:
    def run() -> tuple[list[dict[str, Any]], int]:
        queryset = cron_search(
            assistant_id=payload.assistant_id,
            thread_id=payload.thread_id,
            enabled=payload.enabled,
            metadata=payload.metadata,
        )
        crons, total = cron_page(
            queryset,
            sort_by=payload.sort_by,
            sort_order=payload.sort_order,
            offset=payload.offset,
            limit=payload.limit,
        )
        return [select_fields(cron_out(cron), payload.select) for cron in crons], total

    items, total = await call(run)()
    return paginated(items, total=total, offset=payload.offset, limit=payload.limit)


@router.post("/runs/crons/count")
async def cron_count(request: HttpRequest, payload: CronCountIn) -> HttpResponse:
    count = await call(
        lambda: cron_search(
            assistant_id=payload.assistant_id, thread_id=payload.thread_id, metadata=payload.metadata
        ).count()
    )()
    return json_response(count)


@router.get("/runs/crons/{cron_id}")
async def cron_get_view(request: HttpRequest, cron_id: str) -> HttpResponse:
    cron = await call(cron_get)(cron_id=path_uuid(cron_id, "cron"))
    return json_response(cron_out(cron))


@router.patch("/runs/crons/{cron_id}")
async def cron_update(request: HttpRequest, cron_id: str, payload: CronPatchIn) -> HttpResponse:
    sent = payload.model_fields_set
    changes: dict[str, Any] = {
        "schedule": payload.schedule,
        "timezone": payload.timezone,
        "enabled": payload.enabled,
        "on_run_completed": payload.on_run_completed,
        "metadata": payload.metadata,
        "payload": payload.payload() or None,
    }
    if "end_time" in sent:  # an explicit null clears the end time
        changes["end_time"] = payload.end_time
    cron = await call(services.cron_update)(cron_id=path_uuid(cron_id, "cron"), **changes)
    return json_response(cron_out(cron))


@router.delete("/runs/crons/{cron_id}")
async def cron_delete(request: HttpRequest, cron_id: str) -> HttpResponse:
    await call(services.cron_delete)(cron_id=path_uuid(cron_id, "cron"))
    return no_content()
