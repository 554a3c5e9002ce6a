"""What an attacker with a database dump gets (no plaintext), and key rotation over real rows."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection as db
from django.test import override_settings

from atrium.core.tenancy import scoped, system_scope
from atrium.credentials import oauth, vault
from atrium.credentials.models import OAuthAuthorization, OAuthConnection, OAuthProvider, WorkspaceSecret
from atrium.credentials.tests import factories

PLAINTEXTS = ("sk-dump-secret-0001", "client-secret-dump-0002", "access-dump-0003", "refresh-dump-0004")
NEW_KEY = vault.generate_key()


def _pg_dump() -> str:
    # The server's own binaries (services.sh writes where they are): a pg_dump older than the server refuses.
    bindir = os.environ.get("ATRIUM_PG_BINDIR", "")
    if bindir and os.path.exists(os.path.join(bindir, "pg_dump")):
        return os.path.join(bindir, "pg_dump")
    found = shutil.which("pg_dump") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))), None
    )
    if found is None:
        pytest.fail("pg_dump not found (the postgresql package installs it)")
    return found


def _rows(admin):
    secret = factories.secret(admin.org, value=PLAINTEXTS[0])
    provider = factories.provider(admin.org, client_secret=PLAINTEXTS[1])
    conn = factories.connection(provider, admin.user, access_token=PLAINTEXTS[2], refresh_token=PLAINTEXTS[3])
    with scoped(admin.scope()):
        oauth.oauth_authorize_start(provider=provider.slug)
    return secret, provider, conn


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_plaintext_secret(admin):
    # given a secret, a provider's client secret and a user's tokens, committed
    _rows(admin)
    settings = db.settings_dict
    # when the database is dumped
    dump = subprocess.run(
        [
            _pg_dump(),
            "--data-only",
            "--no-owner",
            "-h",
            settings["HOST"],
            "-p",
            str(settings["PORT"]),
            "-U",
            settings["USER"],
            settings["NAME"],
        ],
        check=True,
        capture_output=True,
        text=True,
        env={"PGPASSWORD": settings["PASSWORD"] or ""},
    ).stdout
    # then the rows are in it, and no plaintext is
    assert "credentials_workspacesecret" in dump
    assert "OPENAI_API_KEY" in dump
    for plaintext in PLAINTEXTS:
        assert plaintext not in dump
        assert plaintext.encode().hex() not in dump  # bytea is dumped as hex


@pytest.mark.django_db
def test_rotate_keys_rewraps_every_record_and_the_old_key_can_go(admin):
    # given records sealed under the dev key
    secret, provider, conn = _rows(admin)
    old = vault.keyring().primary
    # when a new key is put first and the records are re-wrapped
    with override_settings(ATRIUM_VAULT_KEYS=f"new:{NEW_KEY},{old}:{_key(old)}"):
        out = StringIO()
        call_command("rotate_vault_keys", stdout=out)
        assert "re-wrapped 5, already current 0" in out.getvalue()
        out = StringIO()
        call_command("rotate_vault_keys", stdout=out)
        assert "re-wrapped 0, already current 5" in out.getvalue()
    # then, with the old key gone, every value still opens
    with override_settings(ATRIUM_VAULT_KEYS=f"new:{NEW_KEY}"), system_scope():
        s = WorkspaceSecret.objects.get(id=secret.id)
        p = OAuthProvider.objects.get(id=provider.id)
        c = OAuthConnection.objects.get(id=conn.id)
        a = OAuthAuthorization.objects.get()
        assert vault.unseal(bytes(s.sealed_value), aad=s.aad()) == PLAINTEXTS[0]
        assert vault.unseal(bytes(p.sealed_client_secret), aad=p.aad()) == PLAINTEXTS[1]
        assert vault.unseal(bytes(c.sealed_access_token), aad=c.aad("access")) == PLAINTEXTS[2]
        assert vault.unseal(bytes(c.sealed_refresh_token), aad=c.aad("refresh")) == PLAINTEXTS[3]
        assert vault.key_id(bytes(a.sealed_code_verifier)) == "new"


@pytest.mark.django_db
def test_rotation_stops_at_a_record_it_cannot_open(admin):
    secret = factories.secret(admin.org)
    with system_scope():
        WorkspaceSecret.objects.filter(id=secret.id).update(name="RENAMED")  # identity no longer matches
    keys = f"new:{NEW_KEY},{vault.keyring().primary}:{_key(vault.keyring().primary)}"
    with override_settings(ATRIUM_VAULT_KEYS=keys), pytest.raises(CommandError, match="Stopped"):
        call_command("rotate_vault_keys", stdout=StringIO())
    with system_scope():
        assert vault.key_id(bytes(WorkspaceSecret.objects.get().sealed_value)) != "new"


def _key(kid: str) -> str:
    import base64

    return base64.urlsafe_b64encode(vault.keyring().keys[kid]).decode()
