"""The claim reads what admins approved for the run's assistant (atrium/runtime/sql/atrium_run_claim.v2.sql):
only its granted workspace secrets, the org's approved egress hosts and providers' API base URLs."""

import importlib
from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parents[1] / "sql"
SIGNATURE = "atrium_run_claim(uuid, text, double precision, integer)"


def _previous_claim() -> str:
    return str(importlib.import_module("atrium.runtime.migrations.0007_claim_and_finish_functions").CLAIM)


class Migration(migrations.Migration):
    dependencies = [
        ("runtime", "0008_redundant_indexes"),
        ("assistants", "0002_grants_and_org_policy"),
        ("credentials", "0002_provider_api_base_urls"),
        ("orgs", "0004_run_caps"),
    ]

    operations = [
        # The returned columns change, which CREATE OR REPLACE cannot do.
        migrations.RunSQL(
            f"DROP FUNCTION IF EXISTS {SIGNATURE};\n" + (SQL / "atrium_run_claim.v2.sql").read_text(),
            f"DROP FUNCTION IF EXISTS {SIGNATURE};\n" + _previous_claim(),
        ),
    ]
