"""The audit log: one append-only row per admin or security-relevant action in an org."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel


class AuditEvent(OrgOwnedModel):
    """Who did what to which object, and when. Rows are written by `audit_record` in the transaction of
    the change they describe and never updated; `actor_email` survives the user's deletion."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=64, help_text="Dotted name, e.g. membership.remove.")
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    data = models.JSONField(default=dict, blank=True, help_text="Non-secret details of the change.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("org", "-created_at"), name="audit_org_created")]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or 'system'}"
