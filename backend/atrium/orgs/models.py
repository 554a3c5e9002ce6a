from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel, Role


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("slug",)

    def __str__(self) -> str:
        return self.slug


class Membership(OrgOwnedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.END_USER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=("org", "user"), name="membership_unique_org_user")]
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"{self.user_id}@{self.org_id} ({self.role})"


class ApiKey(OrgOwnedModel):
    """A secret for the SDKs (`x-api-key`), acting as one user in one organisation.

    Only a SHA-256 digest of the secret is stored: keys are 256-bit random, so a slow hash buys
    nothing and a fast one keeps authentication off the hot path's critical budget.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part of the key, shown in lists.")
    hashed_secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class OrgSettings(OrgOwnedModel):
    """An org's operational settings, in the Django admin. A blank limit means the deployment's default
    (`ATRIUM_RATE_*` / `ATRIUM_MAX_CONCURRENT_RUNS` settings); 0 means unlimited.

    The fields in `OPERATOR_FIELDS` are the operator's (a superuser's) to set: what an org may spend and
    where its webhooks may reach. The org's own admins see them but cannot change them. The run caps
    only ever lower the deployment's (`ATRIUM_RUN_MAX_*`).
    """

    OPERATOR_FIELDS = (
        "api_requests_per_minute",
        "api_requests_per_minute_per_user",
        "runs_per_minute",
        "runs_per_minute_per_user",
        "max_concurrent_runs",
        "webhook_allow_private",
        "run_max_seconds",
        "run_max_steps",
    )

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    webhook_allow_private = models.BooleanField(
        default=False,
        help_text="Deliver webhooks to loopback, private and link-local addresses (e.g. an internal "
        "service). Off: such URLs are refused.",
    )
    webhook_secret_generation = models.PositiveIntegerField(
        default=1, help_text="Bumped to rotate the webhook signing secret (it is derived, never stored)."
    )
    api_requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="API requests per minute for the whole org."
    )
    api_requests_per_minute_per_user = models.PositiveIntegerField(
        null=True, blank=True, help_text="API requests per minute for each member."
    )
    runs_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Runs created per minute for the whole org."
    )
    runs_per_minute_per_user = models.PositiveIntegerField(
        null=True, blank=True, help_text="Runs created per minute by each member."
    )
    max_concurrent_runs = models.PositiveIntegerField(
        null=True, blank=True, help_text="Runs executing at once; more wait, pending, for a free slot."
    )
    # Run caps lower the operator's (`ATRIUM_RUN_MAX_SECONDS` / `ATRIUM_RUN_MAX_STEPS`), never raise
    # them: the lowest of assistant, org and operator wins (`atrium/core/run_limits.py`).
    run_max_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Wall-clock seconds a run may execute before it ends with an error. Blank: the "
        "deployment's limit; a value above it has no effect.",
    )
    run_max_steps = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Graph steps (LangGraph's recursion limit) a run may take before it ends with an "
        "error. Blank: the deployment's limit; a value above it has no effect.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        verbose_name = "organisation settings"
        verbose_name_plural = "organisation settings"
        constraints = [models.UniqueConstraint(fields=("org",), name="org_settings_unique_org")]

    def __str__(self) -> str:
        return f"settings of {self.org_id}"
