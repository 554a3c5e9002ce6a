"""Roles are permission sets now: `editor` becomes `builder`, and new members default to `end_user`."""

from django.db import migrations, models


def editors_become_builders(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("orgs", "Membership").unscoped.filter(role="editor").update(role="builder")


def builders_become_editors(apps, schema_editor):  # type: ignore[no-untyped-def]
    Membership = apps.get_model("orgs", "Membership")
    Membership.unscoped.filter(role="builder").update(role="editor")
    Membership.unscoped.filter(role="end_user").update(role="editor")


class Migration(migrations.Migration):
    dependencies = [("orgs", "0002_orgsettings")]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[("viewer", "Viewer"), ("end_user", "End user"), ("builder", "Builder"), ("admin", "Admin")],
                default="end_user",
                max_length=16,
            ),
        ),
        migrations.RunPython(editors_become_builders, builders_become_editors),
    ]
