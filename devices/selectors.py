"""Reads of the device inventory, always through the access policy."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.policy import devices_for

from .models import Device


def device_list(user) -> QuerySet[Device]:
    """The Device List: the user's devices still present in the account."""
    return devices_for(user).filter(vanished_at__isnull=True)


def device_detail(user, pk: int) -> Device:
    """A device the user may see (vanished ones too, for their history), else 404."""
    return get_object_or_404(devices_for(user), pk=pk)


def datacenter_choices(devices: QuerySet[Device]) -> list[tuple[str, str]]:
    """The locations of these devices (the ones a person may see), not of the whole account."""
    rows = (devices.filter(vanished_at__isnull=True).exclude(datacenter="").order_by()
            .values_list("datacenter", "datacenter_long_name").distinct().order_by("datacenter"))
    return [(name, f"{name} ({long_name})" if long_name else name) for name, long_name in rows]


def rescue_environment(device: Device) -> str:
    """What the device will boot into for rescue (the seed's rule: under 6 GB, CentOS 5)."""
    if device.kind == Device.Kind.BARE_METAL:
        return "The rescue kernel for the server's operating system"
    if device.os_family == Device.OsFamily.WINDOWS:
        return "Windows has no rescue kernel: boot from the rescue image WindowsRescueStandalone.iso"
    if device.memory_mb < 6144:
        return "CentOS 5 (CentOS 7 and later need at least 6 GB of RAM; this server has less)"
    return "CentOS 7 or later"
