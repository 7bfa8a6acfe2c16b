"""The device becomes a plain indexed id: the audit core knows no product model. Only Django's
picture of the table changes; the column, its index and every row stay as they are (a rebuild
would drop the append-only triggers on SQLite, and rows are never rewritten)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_row_seal'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name='auditevent', name='audit_audit_device__455a44_idx'),
                migrations.RemoveField(model_name='auditevent', name='device'),
                migrations.AddField(model_name='auditevent', name='device_id',
                                    field=models.BigIntegerField(blank=True, null=True, db_index=True)),
                migrations.AddIndex(model_name='auditevent',
                                    index=models.Index(fields=['device_id', '-seq'],
                                                       name='audit_audit_device__455a44_idx')),
            ],
            database_operations=[],
        ),
    ]
