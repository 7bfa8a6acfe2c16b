"""Reads of the device inventory, always through the access policy."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.policy import devices_for

from .models import Device, InventorySync


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


@dataclass(frozen=True)
class SyncStatus:
    """What the Device List says of the inventory sync: the last run, and whether one this person
    asked for is still to finish (the page then watches for it)."""

    last: InventorySync | None
    waiting: bool = False
    just_finished: bool = False
    overdue: bool = False  # asked long ago and still not run: the workers may be stopped


SYNC_OVERDUE = timedelta(minutes=10)


def sync_status(asked_at: datetime | None) -> SyncStatus:
    return sync_decision(InventorySync.objects.order_by("-started_at").first(), asked_at, timezone.now())


def sync_decision(last: InventorySync | None, asked_at: datetime | None, now: datetime) -> SyncStatus:
    """Pure: a run that started after the ask answers it (the job reads SoftLayer only once picked up)."""
    if asked_at is None:
        return SyncStatus(last)
    if last is not None and last.started_at >= asked_at and last.finished_at is not None:
        return SyncStatus(last, just_finished=True)
    if now - asked_at > SYNC_OVERDUE:
        return SyncStatus(last, overdue=True)
    return SyncStatus(last, waiting=True)
