"""`make rotate-keys`: re-wrap every stored secret under the first key of ATRIUM_VAULT_KEYS.

See docs/runbooks/rotate-vault-keys.md for the whole procedure (add key, roll out, re-wrap, drop key).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from atrium.core.tenancy import system_scope
from atrium.credentials.rotation import vault_rewrap_all
from atrium.credentials.vault import VaultError, generate_key, keyring


class Command(BaseCommand):
    help = "Re-wrap every sealed secret under the primary vault key (or print a new key)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; change nothing")
        parser.add_argument("--generate", action="store_true", help="Print a new random key and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate"]:
            self.stdout.write(generate_key())
            return
        primary = keyring().primary
        try:
            with system_scope():
                report = vault_rewrap_all(dry_run=options["dry_run"])
        except VaultError as exc:
            raise CommandError(f"Stopped: {exc} Nothing after that record was changed.") from exc
        verb = "would re-wrap" if options["dry_run"] else "re-wrapped"
        found = ", ".join(f"{kid}: {n}" for kid, n in sorted(report.by_key.items())) or "none"
        self.stdout.write(
            f"primary key {primary!r}: {verb} {report.rewrapped}, already current {report.current} "
            f"(values per key before: {found})"
        )
