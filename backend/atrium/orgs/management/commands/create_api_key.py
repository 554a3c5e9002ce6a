"""`make apikey ORG=demo EMAIL=alice@demo.local ROLE=builder`: provision a service account's key.

Creates the org, the user and the membership when they do not exist, and prints the key as the last
line so scripts can capture it with `tail -n1`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from atrium.accounts.services import user_get_or_create
from atrium.core.errors import AtriumError
from atrium.core.tenancy import LEGACY_ROLE_NAMES, Role, Scope, role_from_setting, scoped
from atrium.orgs.selectors import membership_for_user_in_org
from atrium.orgs.services import api_key_create, membership_ensure, org_ensure


class Command(BaseCommand):
    help = "Create an API key for EMAIL in ORG (creating the user and membership if needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organisation slug")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--role",
            default=None,
            choices=[*Role.values, *LEGACY_ROLE_NAMES],
            help="Set the member's role (default: keep it, or end_user for a new member)",
        )
        parser.add_argument("--name", default="", help="A label for the key")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            org = org_ensure(slug=options["org"], name=options["org"])
            user, _ = user_get_or_create(email=options["email"])
            existing = membership_for_user_in_org(user_id=user.id, org_slug=org.slug)
            if options["role"]:
                role = role_from_setting(options["role"])
            else:
                role = Role(existing.role) if existing else Role.END_USER
            membership_ensure(org=org, user=user, role=role)
            # An operator command is an entry point: it acts as an admin of that org.
            with scoped(Scope(user_id=None, org_id=org.id, org_slug=org.slug, role=Role.ADMIN)):
                key, plaintext = api_key_create(user=user, name=options["name"] or f"{user.email} key")
        except AtriumError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created key {key.prefix} for {user.email} ({role.value}) in {org.slug}.")
        self.stdout.write(plaintext)
