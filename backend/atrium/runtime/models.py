"""Threads and runs. Checkpoints and the store live in LangGraph's own tables (see migrations)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel


class ThreadStatus(models.TextChoices):
    IDLE = "idle"
    BUSY = "busy"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class RunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class Thread(OrgOwnedModel):
    """A conversation. Its state is the latest checkpoint; `values` caches it for listing and search."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: `thread_org_owner_created` leads with the org (one index less to update on
    # each of a run's writes to its thread).
    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metadata = models.JSONField(default=dict, blank=True)
    config = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=ThreadStatus.choices, default=ThreadStatus.IDLE)
    values = models.JSONField(null=True, blank=True)
    interrupts = models.JSONField(default=dict, blank=True)
    next = models.JSONField(default=list, blank=True, help_text="Nodes still to run at the head checkpoint.")
    error = models.JSONField(null=True, blank=True)
    graph_id = models.CharField(max_length=200, blank=True, default="")
    assistant_id = models.UUIDField(null=True, blank=True)
    temporary = models.BooleanField(default=False, help_text="Made for a stateless run; deleted after it.")
    ttl_minutes = models.FloatField(null=True, blank=True)
    ttl_strategy = models.CharField(max_length=16, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    state_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("org", "owner", "-created_at"), name="thread_org_owner_created"),
            GinIndex(fields=("metadata",), name="thread_metadata_gin", opclasses=("jsonb_path_ops",)),
        ]

    def __str__(self) -> str:
        return str(self.id)


class Run(OrgOwnedModel):
    """One execution of an assistant's graph on a thread.

    The row is the source of truth: a run accepted here is executed even if the broker loses the
    message (the reconciler re-enqueues pending rows). `kwargs` keeps the RunCreate body the worker needs.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: `run_thread_status_created` leads with the thread.
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="runs", db_index=False)
    assistant_id = models.UUIDField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    metadata = models.JSONField(default=dict, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    multitask_strategy = models.CharField(max_length=16, default="enqueue")
    attempt = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True, help_text="What /wait and /join return.")
    error = models.JSONField(null=True, blank=True)
    cancel_action = models.CharField(max_length=16, blank=True, default="")
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True, help_text="after_seconds: do not start earlier.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    checkpoint_start = models.JSONField(null=True, blank=True)
    checkpoint_end = models.JSONField(null=True, blank=True)
    call_counts = models.JSONField(
        null=True,
        blank=True,
        help_text="Model and tool calls the graph's call-limit middleware counted in this run.",
    )
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    fence = models.PositiveIntegerField(
        default=0, help_text="Bumped on every claim; stale workers are fenced."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("thread", "status", "created_at"), name="run_thread_status_created"),
            models.Index(fields=("status", "lease_expires_at"), name="run_status_lease"),
        ]
        constraints = [
            # A key is its caller's: one member's key never finds another member's run. Runs whose
            # user was deleted (NULL) keep their keys without conflicting.
            models.UniqueConstraint(
                fields=("org", "user", "idempotency_key"),
                condition=models.Q(idempotency_key__isnull=False),
                name="run_unique_caller_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)


class CronCompletion(models.TextChoices):
    """What a cron without a thread does with the thread it made for a tick, once the run ends."""

    DELETE = "delete"
    KEEP = "keep"


class Cron(OrgOwnedModel):
    """A schedule that creates a run on each tick, acting as the user who made it.

    `payload` is the RunCreate body the tick uses. `next_run_date` is the next tick in UTC, computed in
    the cron's own timezone; the beat task claims due rows with `SKIP LOCKED` and advances it in the
    same transaction, so a tick fires once however many schedulers run.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    assistant_id = models.UUIDField()
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="crons")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    schedule = models.CharField(max_length=200, help_text="Five-field cron expression.")
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA name the schedule is read in.")
    end_time = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    on_run_completed = models.CharField(
        max_length=8,
        choices=CronCompletion.choices,
        null=True,
        blank=True,
        help_text="Crons without a thread only; null for a thread's cron.",
    )
    payload = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    next_run_date = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("next_run_date",), condition=models.Q(enabled=True), name="cron_due"),
            models.Index(fields=("org", "user", "-created_at"), name="cron_org_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.schedule})"


class WebhookStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"


class WebhookDelivery(OrgOwnedModel):
    """One webhook notification of a finished run, and how its delivery went (the delivery log).

    Written in the transaction that ends the run, so a finished run with a webhook always has one; the
    run id is kept as a plain value because the run may be deleted (stateless runs) before delivery.
    `payload` is the body sent, minus `webhook_sent_at`, which each attempt stamps.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    run_id = models.UUIDField(db_index=True)
    thread_id = models.UUIDField(null=True, blank=True)
    url = models.CharField(max_length=2048)
    run_status = models.CharField(max_length=16)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When the next attempt is due (a task message is meant to arrive then): the reconciler sends a
    # new message for a pending delivery well past it, and an earlier message is dropped.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while an attempt is in flight (until its deadline, plus a margin): no second attempt starts.
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=("org", "-created_at"), name="webhook_org_created"),
            models.Index(
                fields=("next_attempt_at",), name="webhook_pending_due", condition=models.Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} → {self.status}"
