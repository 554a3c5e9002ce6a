"""Seed the demo organisation and its three users. Idempotent: run it on every `make dev`."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from atrium.accounts.services import user_get_or_create, user_set_password
from atrium.core.tenancy import Role
from atrium.orgs.services import membership_ensure, org_ensure

DEMO_USERS = (
    ("admin@demo.local", Role.ADMIN),
    ("builder@demo.local", Role.BUILDER),
    ("user@demo.local", Role.END_USER),
    ("viewer@demo.local", Role.VIEWER),
)


class Command(BaseCommand):
    help = "Create the demo org (slug demo) with an admin, a builder, an end user and a viewer."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("ATRIUM_DEMO_PASSWORD", "atrium-demo")
        org = org_ensure(slug="demo", name="Demo")
        for email, role in DEMO_USERS:
            user, _ = user_get_or_create(email=email, name=email.split("@")[0].title())
            if not user.has_usable_password() or not user.check_password(password):
                user_set_password(user=user, password=password)
            membership_ensure(org=org, user=user, role=role)
        self.stdout.write(f"Demo org 'demo' is ready. Logins (password: {password}):")
        for email, role in DEMO_USERS:
            self.stdout.write(f"  {email:<20} {role.value}")
