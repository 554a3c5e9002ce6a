"""MCP servers an org's admins register; builders give their tools to assistants (docs/mcp.md)."""

from __future__ import annotations

from django.db import models

from atrium.core.ids import uuid7
from atrium.core.tenancy import OrgOwnedModel

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Transport(models.TextChoices):
    STREAMABLE_HTTP = "streamable_http", "Streamable HTTP"
    SSE = "sse", "Server-sent events"
    # A command the worker starts as itself: only where the operator allows it (ATRIUM_MCP_ALLOW_STDIO).
    STDIO = "stdio", "stdio (a local command)"


class McpServer(OrgOwnedModel):
    """One MCP server of the org. Its tools reach an assistant whose `mcp_servers` setting names it;
    with an OAuth provider each call carries the end user's token at that provider."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=64, help_text="How assistants' settings name it (`mcp_servers`).")
    transport = models.CharField(max_length=20, choices=Transport.choices, default=Transport.STREAMABLE_HTTP)
    url = models.URLField(max_length=1000, blank=True, default="", help_text="For HTTP transports.")
    command = models.JSONField(
        default=list, blank=True, help_text="For stdio: the program and its arguments, as a list."
    )
    # Deleting the provider deletes its servers: without it their calls could carry no user's token.
    oauth_provider = models.ForeignKey(
        "credentials.OAuthProvider", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scopes = models.JSONField(default=list, blank=True, help_text="Scopes asked of the OAuth provider.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=("org", "name"), name="mcp_server_unique_name")]
        ordering = ("name",)
        verbose_name = "MCP server"

    def __str__(self) -> str:
        return self.name
