"""Workspace secrets (per org), OAuth providers (per org) and users' OAuth connections.

Every secret column holds a value sealed by `atrium.credentials.vault` for the row's identity; the
identities are the `aad_*` helpers below, the single place that defines them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel

SECRET_NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,127}$"


class WorkspaceSecret(OrgOwnedModel):
    """An org-level secret (e.g. OPENAI_API_KEY) handed to the agent runtime at run time."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=500, blank=True, default="")
    sealed_value = models.BinaryField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=("org", "name"), name="workspace_secret_unique_name")]
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def aad(self) -> str:
        return aad_workspace_secret(org_id=str(self.org_id), name=self.name)


class OAuthProvider(OrgOwnedModel):
    """An outside service the org's users may connect (an OAuth 2.0 authorization server)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    authorize_url = models.URLField(max_length=1000)
    token_url = models.URLField(max_length=1000)
    revocation_url = models.URLField(max_length=1000, blank=True, default="")
    client_id = models.CharField(max_length=500)
    sealed_client_secret = models.BinaryField(null=True, blank=True)
    default_scopes = models.JSONField(default=list, blank=True)
    api_base_urls = models.JSONField(
        default=list,
        blank=True,
        help_text="The only API base URLs an assistant's connected APIs may send this provider's tokens to.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=("org", "slug"), name="oauth_provider_unique_slug")]
        ordering = ("slug",)
        verbose_name = "OAuth provider"

    def __str__(self) -> str:
        return self.slug

    def aad(self) -> str:
        return aad_client_secret(provider_id=str(self.id), org_id=str(self.org_id))


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_CONSENT = "needs_consent", "Needs consent"
    REVOKED = "revoked", "Revoked"


class OAuthConnection(OrgOwnedModel):
    """One user's grant at one provider: the tokens (sealed), their scopes and expiry."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(OAuthProvider, on_delete=models.CASCADE, related_name="connections")
    scopes = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE
    )
    sealed_access_token = models.BinaryField()
    sealed_refresh_token = models.BinaryField(null=True, blank=True)
    token_type = models.CharField(max_length=32, default="Bearer")
    expires_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=("user", "provider"), name="oauth_connection_unique_user_provider")
        ]
        ordering = ("-created_at",)
        verbose_name = "OAuth connection"

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.provider_id} ({self.status})"

    def aad(self, field: str) -> str:
        return aad_token(
            connection_id=str(self.id), user_id=self.user_id, provider_id=str(self.provider_id), field=field
        )


class OAuthAuthorization(OrgOwnedModel):
    """A consent in flight: the `state` sent to the provider and the PKCE verifier (sealed)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    state = models.CharField(max_length=128, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(OAuthProvider, on_delete=models.CASCADE, related_name="+")
    scopes = models.JSONField(default=list)
    sealed_code_verifier = models.BinaryField()
    redirect_uri = models.URLField(max_length=1000)
    # A run waiting for this consent: the callback resumes it on its thread.
    resume_thread_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta(OrgOwnedModel.Meta):
        ordering = ("-created_at",)

    def aad(self) -> str:
        return aad_code_verifier(authorization_id=str(self.id), user_id=self.user_id)


def aad_workspace_secret(*, org_id: str, name: str) -> str:
    return f"workspace-secret|{org_id}|{name}"


def aad_client_secret(*, provider_id: str, org_id: str) -> str:
    return f"oauth-client-secret|{org_id}|{provider_id}"


def aad_token(*, connection_id: str, user_id: int, provider_id: str, field: str) -> str:
    return f"oauth-token|{connection_id}|{user_id}|{provider_id}|{field}"


def aad_code_verifier(*, authorization_id: str, user_id: int) -> str:
    return f"oauth-pkce|{authorization_id}|{user_id}"
