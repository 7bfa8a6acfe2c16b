from django.db import migrations

CAPABILITIES = [
    ("SERVER_RELOAD", "OS Reloads and Rescue Kernel",
     "Rescue mode, boot from image and unloading the image, on devices you can access.", "Devices"),
    ("REMOTE_MANAGEMENT", "IPMI Remote Management", "Restart devices you can access.", "Devices"),
    ("ACCESS_ALL_GUEST", "All Guest Access",
     "Access to every virtual server of the account, present and future.", "Devices"),
    ("ACCESS_ALL_HARDWARE", "All Hardware Access",
     "Access to every bare metal server of the account, present and future.", "Devices"),
    ("VIEW_CUSTOMER_SOFTWARE_PASSWORD", "View Customer Software Password",
     "Reveal the root / Administrator password of devices you can access.", "Software"),
    ("USER_MANAGE", "Manage Users", "Add users and change their permissions and device access.", "Administrative"),
    ("USER_EVENT_LOG_VIEW", "View Event Log", "Review the account-wide audit trail.", "Administrative"),
]
ROLES = [
    ("Viewer", "Sees the devices they have access to.", []),
    ("Operator", "Puts their devices into rescue mode and back, and reveals their passwords.",
     ["SERVER_RELOAD", "REMOTE_MANAGEMENT", "VIEW_CUSTOMER_SOFTWARE_PASSWORD"]),
    ("Auditor", "Reviews the account-wide audit trail.", ["USER_EVENT_LOG_VIEW"]),
    ("User manager", "Manages users, their permissions and device access.", ["USER_MANAGE"]),
]


def seed(apps, schema_editor):
    Capability = apps.get_model("accounts", "Capability")
    Role = apps.get_model("accounts", "Role")
    for key, name, description, department in CAPABILITIES:
        Capability.objects.update_or_create(key=key, defaults={
            "name": name, "description": description, "department": department})
    for name, description, keys in ROLES:
        role, created = Role.objects.get_or_create(name=name, defaults={"description": description})
        if created:
            role.capabilities.set(keys)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
