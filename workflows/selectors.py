"""Reads for the rescue workflows, always through the access policy."""

from dataclasses import dataclass, field

from django.shortcuts import get_object_or_404

from accounts import policy
from devices import provider
from devices.models import Device
from devices.selectors import rescue_environment

from .models import Batch, Operation
from .rules import state_blocker

RECOMMENDED_ISO = "WindowsRescueStandalone.iso"


def operation_for(user, pk: int) -> Operation:
    visible = Operation.objects.filter(device__in=policy.devices_for(user))
    return get_object_or_404(visible.select_related("device", "requested_by", "ended_by__requested_by"), pk=pk)


def active_operation(device: Device) -> Operation | None:
    return device.operations.filter(state__in=Operation.ACTIVE_STATES).select_related("requested_by").first()


def recent_operations(device: Device, limit: int = 5) -> list[Operation]:
    return list(device.operations.select_related("requested_by")[:limit])


def current_session(device: Device) -> Operation | None:
    """The rescue or image boot the device is in now, if the portal put it there."""
    sessions = device.operations.filter(state__in=(Operation.State.IN_RESCUE, Operation.State.IMAGE_MOUNTED))
    return sessions.select_related("requested_by").order_by("-created_at").first()


def last_automatic_exit(session: Operation) -> Operation | None:
    """The portal's latest exit at this session's time limit (to say if it failed, and when it tries again)."""
    if not session.auto_exit_attempts:
        return None
    return session.device.operations.filter(automatic=True, created_at__gte=session.created_at).order_by(
        "-created_at").first()


def current_image(device: Device) -> Operation | None:
    """The boot-from-image operation whose image is still mounted, if the device is in that state."""
    if device.status != Device.Status.IMAGE_MOUNTED:
        return None
    return device.operations.filter(kind=Operation.Kind.BOOT_IMAGE, state=Operation.State.IMAGE_MOUNTED).first()


@dataclass
class Preflight:
    """What the confirmation page says before Yes."""

    rescue_os: str
    blockers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    running: Operation | None = None


def preflight(device: Device, kind: str) -> Preflight:
    check = Preflight(rescue_os=rescue_environment(device))
    check.running = active_operation(device)
    if check.running:
        check.blockers.append(f"{check.running.get_kind_display()} is already in progress on this device.")
    if device.vanished_at:
        check.blockers.append("This device is no longer in the SoftLayer account.")
    if not check.running and (blocker := state_blocker(device, kind)):
        check.blockers.append(blocker)
    try:
        remote = provider.Gateway(interactive=True).get_device(device.kind, device.provider_id, mask=(
            "mask[id,activeTransaction[transactionStatus[friendlyName]]]"))
        active = remote.get("activeTransaction")
        if active and not check.running:
            status = (active.get("transactionStatus") or {}).get("friendlyName", "a transaction")
            check.blockers.append(f"SoftLayer is running a transaction on this device ({status}); "
                                  "wait until it has finished.")
    except provider.ProviderError as exc:
        check.notes.append(f"The provider could not be checked just now ({exc.message}); the request will be "
                           "checked again when it is sent.")
    if device.power_state == Device.Power.OFF and kind in (Operation.Kind.RESCUE, Operation.Kind.BOOT_IMAGE):
        check.notes.append("The device is powered off: it will be started into the rescue environment.")
    return check


@dataclass(frozen=True)
class Connection:
    """How to reach a device in rescue or booted from an image (the card on its page, the API)."""
    address: str
    private_network: bool  # only a private address: through the VPN
    user: str
    command: str
    image: bool  # booted from an image (else the rescue environment)


def how_to_connect(device: Device) -> Connection | None:
    if device.status not in (Device.Status.IN_RESCUE, Device.Status.IMAGE_MOUNTED):
        return None
    address = device.public_ip or device.private_ip or ""
    windows = device.os_family == Device.OsFamily.WINDOWS
    return Connection(address=address, private_network=not device.public_ip,
                      user="Administrator" if windows else "root",
                      command=f"mstsc /v:{address}" if windows else f"ssh root@{address}",
                      image=device.status == Device.Status.IMAGE_MOUNTED)


def public_iso_images(device: Device) -> list[dict]:
    """The provider's public ISOs, WindowsRescueStandalone.iso first (recommended on Windows)."""
    images = provider.Gateway(interactive=True).public_iso_images()
    return sorted(images, key=lambda i: (i.get("name") != RECOMMENDED_ISO, i.get("name", "").lower()))


# --- Bulk rescue -------------------------------------------------------------------------------------

@dataclass
class BatchCandidate:
    device: Device
    blocker: str = ""  # why this device cannot be asked now ("" when it can)
    rescue_os: str = ""


def batch_candidates(user, devices: list[Device], kind: str) -> list[BatchCandidate]:
    """The bulk confirmation's pre-flight, from what the portal knows (no SoftLayer call per device:
    SoftLayer is checked as each is sent). One query for the running operations of them all."""
    from .services import CAPABILITY

    running = set(Operation.objects.filter(device__in=devices, state__in=Operation.ACTIVE_STATES).values_list(
        "device_id", flat=True))
    candidates = []
    for device in devices:
        blocker = ""
        if not policy.can(user, CAPABILITY[kind], device):
            blocker = "You do not have the permission for this on this device."
        elif device.vanished_at:
            blocker = "No longer in the SoftLayer account."
        elif device.pk in running:
            blocker = "An operation is already in progress on it."
        else:
            blocker = state_blocker(device, kind)
        candidates.append(BatchCandidate(device, blocker, rescue_environment(device)))
    return candidates


def batch_for(user, pk: int) -> Batch:
    """A batch page: its requester's, or the owner's to see (404 for anyone else)."""
    batches = Batch.objects.all() if user.is_account_owner else Batch.objects.filter(requested_by=user)
    return get_object_or_404(batches.select_related("requested_by"), pk=pk)


def batch_items(batch: Batch) -> list:
    return list(batch.items.select_related("device", "operation").order_by("device__fqdn", "pk"))
