"""Writes on crons (§1.6), and the scheduler's tick that turns due crons into runs.

Exactly-once firing: `cron_claim_due` locks due rows with `SELECT ... FOR UPDATE SKIP LOCKED` and
advances their `next_run_date` in the same transaction, so two beats (or a beat and a slow worker)
never claim one tick twice: the second either skips the locked row or, once the first commits, finds
it no longer due. `cron_tick` creates the runs inside that same transaction (each in a savepoint), so
a crash before commit leaves the crons due and nothing half-done; the run's idempotency key
(cron id + tick time) makes a repeated fire of one tick return the existing run.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone as dj_timezone

from atrium.assistants.services import assistant_resolve
from atrium.core.errors import AtriumError, NotFoundError, PermissionDeniedError, ValidationFailedError
from atrium.core.run_limits import config_error
from atrium.core.tenancy import Permission, Role, Scope, current_scope, scoped
from atrium.orgs.models import Membership
from atrium.runtime.models import Cron, CronCompletion, Run
from atrium.runtime.selectors.crons import cron_get
from atrium.runtime.selectors.threads import thread_queryset
from atrium.runtime.services import lifecycle
from atrium.runtime.services.threads import thread_create
from atrium.runtime.services.webhooks import webhook_validate

logger = logging.getLogger(__name__)

# The run-create fields a cron keeps in its payload and replays on every tick.
PAYLOAD_FIELDS = (
    "input",
    "config",
    "context",
    "interrupt_before",
    "interrupt_after",
    "webhook",
    "multitask_strategy",
    "stream_mode",
    "stream_subgraphs",
    "stream_resumable",
    "durability",
)
CLAIM_BATCH = 50


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


# --- schedules ---------------------------------------------------------------------------------


def validated_schedule(schedule: str) -> str:
    """A five-field cron expression (minute hour day-of-month month day-of-week), normalised."""
    fields = (schedule or "").split()
    normalised = " ".join(fields)
    if len(fields) != 5 or not croniter.is_valid(normalised):
        raise ValidationFailedError(
            f"Invalid cron schedule '{schedule}': expected five fields "
            "(minute hour day-of-month month day-of-week), e.g. '*/5 * * * *'."
        )
    return normalised


def validated_timezone(name: str | None) -> str:
    """An IANA timezone name; None means UTC."""
    name = name or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailedError(
            f"Invalid timezone '{name}': expected an IANA name such as 'Europe/Paris'."
        ) from None
    return name


def next_run_after(*, schedule: str, timezone: str, after: datetime) -> datetime:
    """The first tick strictly after `after`, read in `timezone` (so "0 9 * * *" is 9:00 local time
    on both sides of a DST change), returned in UTC."""
    local = after.astimezone(ZoneInfo(timezone))
    nxt: datetime = croniter(schedule, local).get_next(datetime)
    return nxt.astimezone(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """A datetime in UTC; a naive one is taken to be UTC already."""
    if value is None:
        return None
    if dj_timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _check_payload(payload: dict[str, Any]) -> None:
    problem = config_error(payload.get("config"))
    if problem is not None:
        raise ValidationFailedError(problem, code="invalid_config")
    configurable = (payload.get("config") or {}).get("configurable") or {}
    if configurable and payload.get("context"):
        raise AtriumError(
            "Cannot specify both configurable and context. Prefer setting context alone.",
            code="configurable_and_context",
        )


# --- create, update, delete --------------------------------------------------------------------


def cron_create(
    *,
    assistant_id: str,
    schedule: str,
    payload: dict[str, Any],
    thread_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | None = None,
    timezone: str | None = None,
    end_time: datetime | None = None,
    enabled: bool = True,
    on_run_completed: str | None = None,
    if_not_exists: Literal["reject", "create"] = "reject",
) -> Cron:
    """A cron acting as the caller: on `thread_id` when given, else on a new thread per tick."""
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    if scope.user_id is None:
        raise PermissionDeniedError("A cron acts as a user; this caller has none.")
    schedule = validated_schedule(schedule)
    tz = validated_timezone(timezone)
    payload = {k: v for k, v in payload.items() if k in PAYLOAD_FIELDS and v is not None}
    _check_payload(payload)
    if payload.get("webhook") is not None:
        payload["webhook"] = webhook_validate(payload["webhook"], org_id=scope.org)
    assistant = assistant_resolve(assistant_id=assistant_id)
    with transaction.atomic():
        thread = None
        if thread_id is not None:
            thread = thread_queryset().filter(id=thread_id).first()
            if thread is None:
                if if_not_exists != "create":
                    raise NotFoundError(f"Thread with ID {thread_id} not found")
                thread, _ = thread_create(thread_id=thread_id, metadata={}, if_exists="do_nothing")
        return Cron.objects.create(
            org_id=scope.org,
            user_id=scope.user_id,
            assistant_id=assistant.id,
            thread=thread,
            schedule=schedule,
            timezone=tz,
            end_time=_utc(end_time),
            enabled=enabled,
            on_run_completed=None if thread is not None else (on_run_completed or CronCompletion.DELETE),
            payload={"assistant_id": str(assistant.id), **payload},
            metadata=dict(metadata or {}),
            next_run_date=next_run_after(schedule=schedule, timezone=tz, after=dj_timezone.now()),
        )


def cron_update(
    *,
    cron_id: str | uuid.UUID,
    schedule: str | None = None,
    timezone: str | None = None,
    end_time: datetime | _Unset | None = UNSET,
    enabled: bool | None = None,
    on_run_completed: str | None = None,
    metadata: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> Cron:
    """Apply a partial update. `end_time=None` clears the end; `metadata` is shallow-merged; each
    `payload` key replaces that run-create field (a null removes it). Changing the schedule, the
    timezone or re-enabling recomputes the next tick from now."""
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    changes = payload or {}
    unknown = sorted(set(changes) - set(PAYLOAD_FIELDS))
    if unknown:
        raise ValidationFailedError(f"Cannot update {', '.join(unknown)} of a cron.")
    given = (schedule, timezone, enabled, on_run_completed, metadata)
    if all(value is None for value in given) and end_time is UNSET and not changes:
        raise AtriumError("Nothing to update: send at least one field.", code="empty_update")
    if changes.get("webhook") is not None:
        changes = {**changes, "webhook": webhook_validate(changes["webhook"], org_id=scope.org)}
    problem = config_error(changes.get("config"))
    if problem is not None:
        raise ValidationFailedError(problem, code="invalid_config")
    schedule = validated_schedule(schedule) if schedule is not None else None
    timezone = validated_timezone(timezone) if timezone is not None else None
    with transaction.atomic():
        cron = cron_get(cron_id=cron_id)
        cron = Cron.objects.select_for_update().get(id=cron.id)
        reschedule = False
        if schedule is not None and schedule != cron.schedule:
            cron.schedule, reschedule = schedule, True
        if timezone is not None and timezone != cron.timezone:
            cron.timezone, reschedule = timezone, True
        if enabled is not None:
            reschedule = reschedule or (enabled and not cron.enabled)
            cron.enabled = enabled
        if not isinstance(end_time, _Unset):
            cron.end_time = _utc(end_time)
        if on_run_completed is not None:
            if cron.thread_id is not None:
                raise ValidationFailedError("on_run_completed applies only to crons without a thread.")
            cron.on_run_completed = on_run_completed
        if metadata is not None:
            cron.metadata = {**cron.metadata, **metadata}
        if changes:
            merged = {**cron.payload, **changes}
            _check_payload(merged)
            cron.payload = {k: v for k, v in merged.items() if v is not None}
        if reschedule:
            cron.next_run_date = next_run_after(
                schedule=cron.schedule, timezone=cron.timezone, after=dj_timezone.now()
            )
        cron.save()
    return cron


def cron_delete(*, cron_id: str | uuid.UUID) -> None:
    scope = current_scope()
    scope.require(Permission.CONFIGURE_AGENTS)
    with transaction.atomic():
        cron_get(cron_id=cron_id).delete()


# --- the scheduler -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CronFire:
    """One claimed tick of one cron, as plain data."""

    cron_id: uuid.UUID
    org_id: uuid.UUID
    user_id: int
    thread_id: uuid.UUID | None
    assistant_id: uuid.UUID
    payload: dict[str, Any]
    metadata: dict[str, Any]
    on_run_completed: str | None
    fire_time: datetime


def cron_claim_due(*, now: datetime | None = None, limit: int = CLAIM_BATCH) -> list[CronFire]:
    """Claim the crons due at `now` and move each to its next tick after `now` (missed ticks are
    skipped, not replayed). Only the scheduler, in a system scope, claims; it spans every org."""
    if not current_scope().system:
        raise PermissionDeniedError("Only the scheduler claims crons.")
    now = now or dj_timezone.now()
    fires: list[CronFire] = []
    with transaction.atomic():
        due = (
            Cron.objects.select_for_update(skip_locked=True)
            .filter(enabled=True, next_run_date__lte=now)
            .filter(Q(end_time__isnull=True) | Q(end_time__gte=F("next_run_date")))
            .order_by("next_run_date")[:limit]
        )
        for cron in due:
            assert cron.next_run_date is not None
            fires.append(
                CronFire(
                    cron_id=cron.id,
                    org_id=cron.org_id,
                    user_id=cron.user_id,
                    thread_id=cron.thread_id,
                    assistant_id=cron.assistant_id,
                    payload=dict(cron.payload),
                    metadata=dict(cron.metadata),
                    on_run_completed=cron.on_run_completed,
                    fire_time=cron.next_run_date,
                )
            )
            # A queryset update leaves `updated_at` to mean "last changed by someone".
            Cron.objects.filter(id=cron.id).update(
                next_run_date=next_run_after(schedule=cron.schedule, timezone=cron.timezone, after=now)
            )
    return fires


def _run_create_of(fire: CronFire) -> lifecycle.RunCreate:
    payload = fire.payload
    stream_mode = payload.get("stream_mode") or ["values"]
    return lifecycle.RunCreate(
        assistant_id=str(fire.assistant_id),
        input=payload.get("input"),
        metadata=dict(fire.metadata),
        config=payload.get("config") or {},
        context=payload.get("context") or {},
        stream_mode=stream_mode if isinstance(stream_mode, list) else [stream_mode],
        stream_subgraphs=bool(payload.get("stream_subgraphs")),
        stream_resumable=bool(payload.get("stream_resumable")),
        multitask_strategy=payload.get("multitask_strategy") or "enqueue",
        interrupt_before=payload.get("interrupt_before"),
        interrupt_after=payload.get("interrupt_after"),
        webhook=payload.get("webhook"),
        durability=payload.get("durability"),
        on_completion=fire.on_run_completed or CronCompletion.DELETE,
        idempotency_key=f"cron:{fire.cron_id}:{fire.fire_time.isoformat()}",
        cron_id=str(fire.cron_id),
    )


def cron_fire(*, fire: CronFire) -> Run | None:
    """Create the tick's run as the cron's user, with their current role (a run the user may no
    longer create is refused as it would be over the API). None when the user left the org."""
    membership = (
        Membership.objects.filter(org_id=fire.org_id, user_id=fire.user_id, user__is_active=True)
        .select_related("org")
        .first()
    )
    if membership is None:
        logger.warning("cron %s: its user is no longer an active member of the org; skipped", fire.cron_id)
        return None
    scope = Scope(
        user_id=fire.user_id, org_id=fire.org_id, org_slug=membership.org.slug, role=Role(membership.role)
    )
    with scoped(scope):
        return lifecycle.create(
            thread_id=fire.thread_id, payload=_run_create_of(fire), stateless=fire.thread_id is None
        )


def cron_tick(*, now: datetime | None = None, limit: int = CLAIM_BATCH) -> int:
    """Claim due crons and create their runs, all in one transaction. Returns how many fired."""
    fired = 0
    with transaction.atomic():
        for fire in cron_claim_due(now=now, limit=limit):
            try:
                with transaction.atomic():
                    if cron_fire(fire=fire) is not None:
                        fired += 1
            except AtriumError as exc:
                logger.warning("cron %s: the run was refused: %s", fire.cron_id, exc.message)
            except Exception:
                logger.exception("cron %s: the run could not be created", fire.cron_id)
    return fired
