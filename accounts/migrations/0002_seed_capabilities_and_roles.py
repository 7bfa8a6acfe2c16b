from django.db import migrations

from accounts.capabilities import ensure_catalogue


def seed(apps, schema_editor):
    ensure_catalogue(apps.get_model("accounts", "Capability"), apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
