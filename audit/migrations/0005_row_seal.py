"""Row seals (audit.digest). A trail that already has rows gets its head signed once, as the
point up to which rows may have no seal; every later row must carry one."""

from django.db import migrations, models


def sign_the_trail_so_far(apps, schema_editor) -> None:
    from audit.digest import sign_trail_from_before_seals

    event = apps.get_model("audit", "AuditEvent")
    head = event.objects.using(schema_editor.connection.alias).order_by("-seq").values("seq", "hash").first()
    if head is not None:
        sign_trail_from_before_seals(head["seq"], head["hash"])


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_reinstall_append_only_guard'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='seal',
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunPython(sign_the_trail_so_far, migrations.RunPython.noop),
    ]
