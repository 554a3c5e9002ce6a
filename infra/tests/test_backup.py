"""`make backup` / `make restore` (infra/scripts/backup.sh) against a real Postgres: the test database."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from atrium.accounts.models import User
from atrium.accounts.services import user_create
from atrium.core.tenancy import Role
from atrium.orgs.models import Membership, Organization
from atrium.orgs.services import membership_ensure

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "scripts" / "backup.sh"


def database_url() -> str:
    """The URL of the database this test session really uses (pytest's test database)."""
    params = connection.get_connection_params()
    password = f":{params['password']}" if params.get("password") else ""
    return f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{params['dbname']}"


def script(*args: str, confirm: bool = False) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": database_url(), "ATRIUM_RESTORE_CONFIRM": "yes" if confirm else ""}
    command = ["bash", str(SCRIPT), *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False
    )


@pytest.mark.django_db(transaction=True)
def test_a_restore_brings_back_deleted_and_changed_rows_and_drops_later_ones(tmp_path):
    # given an org with a member, committed
    org = Organization.objects.create(slug="acme", name="Acme")
    user = user_create(email="alice@acme.test", password="a-long-test-password")
    membership_ensure(org=org, user=user, role=Role.ADMIN)
    dump = tmp_path / "atrium.dump"

    # when it is backed up, then changed, deleted and added to
    backup = script("backup", str(dump))
    assert backup.returncode == 0, backup.stderr
    assert backup.stdout.strip() == str(dump)
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    Organization.objects.filter(pk=org.pk).update(name="Renamed")
    User.objects.filter(pk=user.pk).delete()
    Organization.objects.create(slug="later", name="Created after the backup")
    assert not Membership.unscoped.filter(org=org).exists()

    # and restored
    restore = script("restore", str(dump), confirm=True)

    # then the data is as it was at the backup
    assert restore.returncode == 0, restore.stderr
    assert list(Organization.objects.order_by("slug").values_list("slug", "name")) == [("acme", "Acme")]
    assert User.objects.get(pk=user.pk).check_password("a-long-test-password")
    assert Membership.unscoped.get(org=org, user_id=user.pk).role == Role.ADMIN


@pytest.mark.django_db(transaction=True)
def test_a_restore_needs_confirmation_and_a_real_backup_and_changes_nothing_otherwise(tmp_path):
    Organization.objects.create(slug="acme", name="Acme")
    dump = tmp_path / "atrium.dump"
    assert script("backup", str(dump)).returncode == 0
    Organization.objects.create(slug="later", name="Later")
    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("hello")

    unconfirmed = script("restore", str(dump))
    missing = script("restore", str(tmp_path / "nope.dump"), confirm=True)
    garbage = script("restore", str(not_a_dump), confirm=True)

    assert unconfirmed.returncode != 0
    assert "ATRIUM_RESTORE_CONFIRM=yes" in unconfirmed.stderr
    assert missing.returncode != 0
    assert "no backup at" in missing.stderr
    assert garbage.returncode != 0
    assert "not a pg_dump custom-format file" in garbage.stderr
    assert set(Organization.objects.values_list("slug", flat=True)) == {"acme", "later"}
