"""Indexes every run paid to update and no query needs: each is the leading column of another index.

- `runtime_run.thread_id` and `runtime_thread.org_id`: `run_thread_status_created` and
  `thread_org_owner_created` lead with them.
- LangGraph's `*_thread_id_idx` on its three checkpoint tables: each table's primary key leads with
  `thread_id`. A durable run inserts about 16 rows there, each of which updated both indexes.

LangGraph records its own table migrations as applied (`checkpoint_migrations`), so its `setup()`
does not create them again.
"""

import django.db.models.deletion
from django.db import migrations, models

LANGGRAPH_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
DROP = "".join(f"DROP INDEX IF EXISTS {table}_thread_id_idx;" for table in LANGGRAPH_TABLES)
CREATE = "".join(
    f"CREATE INDEX IF NOT EXISTS {table}_thread_id_idx ON {table}(thread_id);" for table in LANGGRAPH_TABLES
)


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0002_orgsettings"),
        ("runtime", "0007_claim_and_finish_functions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="run",
            name="thread",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="runs",
                to="runtime.thread",
            ),
        ),
        migrations.AlterField(
            model_name="thread",
            name="org",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="orgs.organization",
            ),
        ),
        migrations.RunSQL(DROP, CREATE),
    ]
