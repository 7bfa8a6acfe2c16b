"""The demo account: the owner and a few users that show the access model. Idempotent."""

from pathlib import Path

from accounts import capabilities as caps
from accounts.models import Capability, Role
from accounts.services import ensure_demo_user
from devices.models import Device


def _devices(**filters) -> list[Device]:
    return list(Device.objects.filter(vanished_at__isnull=True, **filters).order_by("provider_id"))


def seed_users(var_dir: Path) -> list[tuple[str, str, str]]:
    """(username, password, what they show); the devices must have been synced first."""
    caps.ensure_catalogue(Capability, Role)
    linux_vs = _devices(kind=Device.Kind.VIRTUAL, os_family=Device.OsFamily.LINUX)
    windows_vs = _devices(kind=Device.Kind.VIRTUAL, os_family=Device.OsFamily.WINDOWS)
    spec = [
        ("operator", "Operator on 3 Linux virtual servers", dict(roles=["Operator"], devices=linux_vs[:3])),
        ("windows-operator", "Operator on 2 Windows virtual servers", dict(roles=["Operator"],
                                                                           devices=windows_vs[:2])),
        ("manager", "User manager with operator rights on every device",
         dict(roles=["User manager", "Operator"], capabilities=[caps.ACCESS_ALL_GUEST, caps.ACCESS_ALL_HARDWARE])),
        ("auditor", "Auditor: reviews the audit trail, sees every device",
         dict(roles=["Auditor"], capabilities=[caps.ACCESS_ALL_GUEST, caps.ACCESS_ALL_HARDWARE])),
        ("viewer", "Viewer of 2 devices, no actions", dict(roles=["Viewer"], devices=linux_vs[3:5])),
    ]
    people = []
    for username, what, grants in spec:
        user, password = ensure_demo_user(username, var_dir / f"demo_{username}_password", **grants)
        people.append((user.username, password, what))
    return people
