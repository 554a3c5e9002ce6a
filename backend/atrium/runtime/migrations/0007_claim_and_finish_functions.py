"""The worker's claim and finish as Postgres functions: each is one round trip, committed with it.

A claim is a thread row lock, the org's cap lock (when it has a cap), then the claim itself in a
statement of its own (it must see every claim committed before the locks were granted); a finish is
the thread lock, then the run's end with the thread's state. Sent one by one, with BEGIN and COMMIT,
that was five and four round trips, and a worker busy with other runs answers each only after it gets
the interpreter back, so the org lock was held across several of them. In a function each statement
still takes its own snapshot (READ COMMITTED, VOLATILE), the locks are held only while Postgres
works, and the caller pays one round trip. ADR 0016.
"""

from pathlib import Path

from django.db import migrations

# The functions as installed are `atrium/runtime/sql/<name>.v1.sql` (the text once inline here).
SQL = Path(__file__).resolve().parents[1] / "sql"
CLAIM = (SQL / "atrium_run_claim.v1.sql").read_text()
FINISH = (SQL / "atrium_run_finish.v1.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("runtime", "0006_run_call_counts")]

    operations = [
        migrations.RunSQL(CLAIM, "DROP FUNCTION IF EXISTS atrium_run_claim(uuid, text, double precision, integer)"),
        migrations.RunSQL(
            FINISH,
            "DROP FUNCTION IF EXISTS atrium_run_finish(uuid, integer, uuid, boolean, text, jsonb, jsonb, "
            "jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, text, text)",
        ),
    ]
