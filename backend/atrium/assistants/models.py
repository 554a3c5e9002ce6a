from __future__ import annotations

from django.conf import settings
from django.db import models

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel


class Audience(models.TextChoices):
    """Who may use an assistant. Builders and admins always may (they configure it)."""

    EVERYONE = "everyone", "Everyone in the organisation"
    TEAM = "team", "Builders and admins only"


class Assistant(OrgOwnedModel):
    """A configured instance of a graph. Every change writes a new `AssistantVersion`.

    The columns hold the *latest* version, the one runs use, so reads need no join.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    graph_id = models.CharField(max_length=200)
    name = models.CharField(max_length=200, default="Untitled")
    description = models.TextField(null=True, blank=True)
    config = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Grants: set by the org's admins only, outside the versions builders write (atrium.assistants.policy).
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.EVERYONE)
    granted_secrets = models.JSONField(
        default=list, blank=True, help_text="Names of the workspace secrets this assistant's runs receive."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("org", "graph_id"), name="assistant_org_graph")]

    def __str__(self) -> str:
        return f"{self.name} ({self.graph_id})"


class AssistantVersion(OrgOwnedModel):
    id = models.BigAutoField(primary_key=True)
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    graph_id = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)
    config = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-version",)
        constraints = [
            models.UniqueConstraint(fields=("assistant", "version"), name="assistant_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.assistant_id} v{self.version}"


class OrgPolicy(OrgOwnedModel):
    """What the org's admins approve for every assistant of the org: builders configure within it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    egress_hosts = models.JSONField(
        default=list,
        blank=True,
        help_text='Hosts sandboxes may reach ("api.example.com", or "*.example.com" for its subdomains).',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        verbose_name = "assistant policy"
        verbose_name_plural = "assistant policies"
        constraints = [models.UniqueConstraint(fields=("org",), name="org_policy_unique_org")]

    def __str__(self) -> str:
        return f"policy of {self.org_id}"
