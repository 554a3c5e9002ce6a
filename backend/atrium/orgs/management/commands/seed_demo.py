"""Seed the demo organisation, its users and its default assistants. Idempotent: run it on every
`make dev`, so the web app offers a chat on an empty data directory before anything calls /agent.
With ATRIUM_DEMO_MCP_URL (dev.sh and the browser tests start the demo MCP server and set it), the
org's MCP server `demo-shop` is registered at that URL and given to the demo deep agent."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from atrium.accounts.services import user_get_or_create, user_set_password
from atrium.assistants.graphs import default_assistant_id_for
from atrium.assistants.models import Assistant
from atrium.assistants.services import assistant_update, assistants_ensure_defaults
from atrium.core.errors import ValidationFailedError
from atrium.core.tenancy import Role, Scope, current_scope, scoped
from atrium.mcp_servers.demo_server import NAME as DEMO_MCP_SERVER
from atrium.mcp_servers.models import McpServer
from atrium.mcp_servers.services import mcp_server_create, mcp_server_update
from atrium.orgs.services import membership_ensure, org_ensure

DEMO_USERS = (
    ("admin@demo.local", Role.ADMIN),
    ("builder@demo.local", Role.BUILDER),
    ("user@demo.local", Role.END_USER),
    ("viewer@demo.local", Role.VIEWER),
)
# The demo deep agent asks before it edits a file, so the chat's approval example shows an approval
# (memory notes are written whole with write_file, so remembering asks nothing). Only for a graph whose
# settings accept it (a project of one's own named `agent` is left with its defaults).
DEMO_ASSISTANT_CONTEXTS = {"agent": {"interrupt_on": ["edit_file"]}}


def _demo_mcp_server_ensure(url: str) -> None:
    """The org's `demo-shop` MCP server at `url` (its port changes from one `make dev` to the next),
    and the demo agent with its tools: a new one, or the seeded one nobody has edited (version 1)
    and that names no MCP server yet, as on a data directory seeded before the server existed."""
    server = McpServer.objects.filter(name=DEMO_MCP_SERVER).first()
    if server is None:
        mcp_server_create(name=DEMO_MCP_SERVER, url=url)
    elif server.url != url:
        mcp_server_update(server_id=server.id, url=url)
    agent = Assistant.objects.filter(id=default_assistant_id_for(current_scope().org, "agent")).first()
    if agent is not None and agent.version == 1 and "mcp_servers" not in agent.context:
        assistant_update(assistant_id=agent.id, context={**agent.context, "mcp_servers": [DEMO_MCP_SERVER]})


class Command(BaseCommand):
    help = (
        "Create the demo org (slug demo) with an admin, a builder, an end user and a viewer, and its "
        "default assistant for each registered graph."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("ATRIUM_DEMO_PASSWORD", "atrium-demo")
        org = org_ensure(slug="demo", name="Demo")
        for email, role in DEMO_USERS:
            user, _ = user_get_or_create(email=email, name=email.split("@")[0].title())
            if not user.has_usable_password() or not user.check_password(password):
                user_set_password(user=user, password=password)
            membership_ensure(org=org, user=user, role=role)
        # A management command is an entry point: it acts as an admin of the demo org.
        with scoped(Scope(user_id=None, org_id=org.id, org_slug=org.slug, role=Role.ADMIN)):
            assistants_ensure_defaults(contexts=DEMO_ASSISTANT_CONTEXTS)
            if mcp_url := os.environ.get("ATRIUM_DEMO_MCP_URL", "").strip():
                try:
                    _demo_mcp_server_ensure(mcp_url)
                except ValidationFailedError as exc:  # settings that refuse loopback MCP hosts
                    self.stderr.write(f"The demo MCP server is left out: {exc.message}")
        self.stdout.write(f"Demo org 'demo' is ready. Logins (password: {password}):")
        for email, role in DEMO_USERS:
            self.stdout.write(f"  {email:<20} {role.value}")
