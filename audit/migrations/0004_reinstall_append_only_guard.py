"""0003 altered fields, and on SQLite Django rebuilds a table to do that, which drops its
triggers: the append-only guard is put back here. Any later migration that rebuilds the table
must do the same (the audit.E001 system check fails until it does)."""

from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_review_indexes")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
