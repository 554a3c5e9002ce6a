"""Seed the demo organisation, its users and its default assistants. Idempotent: run it on every
`make dev`, so the web app offers a chat on an empty data directory before anything calls /agent."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from atrium.accounts.services import user_get_or_create, user_set_password
from atrium.assistants.services import assistants_ensure_defaults
from atrium.core.tenancy import Role, Scope, scoped
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
        self.stdout.write(f"Demo org 'demo' is ready. Logins (password: {password}):")
        for email, role in DEMO_USERS:
            self.stdout.write(f"  {email:<20} {role.value}")
