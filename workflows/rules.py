"""Pure decisions about what a device's state allows (plain values in, a sentence out)."""

from devices.models import Device

from .models import Operation

Kind = Operation.Kind


def state_blocker(device: Device, kind: str) -> str:
    """Why the device's current state rules this request out (with what to do instead), or ""."""
    if kind == Kind.RESCUE and device.status == Device.Status.IN_RESCUE:
        return ("This device is already in rescue mode. To leave it, use Actions → Restart; to connect, see "
                "How to connect on the device's page.")
    if kind in (Kind.RESCUE, Kind.BOOT_IMAGE) and device.status == Device.Status.IMAGE_MOUNTED:
        return ("This device is booted from an image. Use Actions → Boot from image → Continue to unload it and "
                "return to normal booting first.")
    if kind == Kind.BOOT_IMAGE and device.status == Device.Status.IN_RESCUE:
        return "This device is in rescue mode. Use Actions → Restart to leave it first."
    return ""


def reveal_blocker(device: Device) -> str:
    """The root / Administrator password is shown only while the device runs the rescue environment
    or the rescue image, which is when a person needs it to log in."""
    if device.status in (Device.Status.IN_RESCUE, Device.Status.IMAGE_MOUNTED):
        return ""
    return ("The password is shown only while the device is in rescue mode or booted from an image; this device "
            "is not. Use Actions → Rescue mode first.")
