"""LangGraph's checkpointer and store tables, created by the libraries' own setup (idempotent).

Re-run `setup_langgraph_tables` from a new migration when a LangGraph upgrade adds table migrations.
"""

from django.db import migrations


def create_tables(apps, schema_editor):  # type: ignore[no-untyped-def]
    from atrium.runtime.langgraph_schema import setup_langgraph_tables

    setup_langgraph_tables(schema_editor.connection.alias)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("runtime", "0001_initial")]
    operations = [migrations.RunPython(create_tables, migrations.RunPython.noop)]
