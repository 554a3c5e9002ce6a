"""Re-wrapping every sealed value under the primary key (`make rotate-keys`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from atrium.core.tenancy import ScopeMissingError, current_scope
from atrium.credentials import vault
from atrium.credentials.models import OAuthAuthorization, OAuthConnection, OAuthProvider, WorkspaceSecret

BATCH = 200

# model, sealed column, the record identity of that column
SEALED_COLUMNS: list[tuple[type[models.Model], str, Callable[[Any], str]]] = [
    (WorkspaceSecret, "sealed_value", lambda row: row.aad()),
    (OAuthProvider, "sealed_client_secret", lambda row: row.aad()),
    (OAuthConnection, "sealed_access_token", lambda row: row.aad("access")),
    (OAuthConnection, "sealed_refresh_token", lambda row: row.aad("refresh")),
    (OAuthAuthorization, "sealed_code_verifier", lambda row: row.aad()),
]


@dataclass
class RotationReport:
    rewrapped: int = 0
    current: int = 0
    by_key: dict[str, int] = field(default_factory=dict)


def vault_rewrap_all(*, dry_run: bool = False) -> RotationReport:
    """Re-wrap every sealed value whose data key is not under the primary key.

    Each row is locked while it is re-wrapped (short transactions, one batch each), so it may run
    while the platform serves traffic: readers hold every configured key and open either wrapping.
    Raises VaultError at a value none of the configured keys opens, before changing it."""
    if not current_scope().system:
        raise ScopeMissingError("Re-wrapping spans every org: run it in the system scope.")
    report = RotationReport()
    for model, column, aad in SEALED_COLUMNS:
        manager = model.unscoped  # type: ignore[attr-defined]
        ids = list(manager.exclude(**{f"{column}__isnull": True}).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                for row in manager.select_for_update().filter(pk__in=ids[start : start + BATCH]):
                    sealed = getattr(row, column)
                    if sealed is None:
                        continue
                    kid = vault.key_id(bytes(sealed))
                    report.by_key[kid] = report.by_key.get(kid, 0) + 1
                    new = vault.rewrap(bytes(sealed), aad=aad(row))
                    if new is None:
                        report.current += 1
                        continue
                    report.rewrapped += 1
                    if not dry_run:
                        manager.filter(pk=row.pk).update(**{column: new})
    return report
