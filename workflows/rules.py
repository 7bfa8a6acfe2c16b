"""Pure decisions about what a device's state allows (plain values in, a sentence out)."""

from devices.models import Device

from .models import Operation

Kind = Operation.Kind


def state_blocker(device: Device, kind: str) -> str:
    """Why the device's current state rules this request out (with what to do instead), or ""."""
    if kind == Kind.RESCUE and device.kind == Device.Kind.VIRTUAL and device.os_family == Device.OsFamily.WINDOWS:
        return ("Windows virtual servers have no rescue kernel: use Boot from image with "
                "WindowsRescueStandalone.iso instead.")
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


# --- Rescue sessions' time limits -----------------------------------------------------------------

EXIT_KIND = {Kind.RESCUE: Kind.RESTART, Kind.BOOT_IMAGE: Kind.UNLOAD_IMAGE}  # how the portal ends each


def time_limit_choices(offered: list[float], maximum: float) -> list[float]:
    """The limits a Yes may carry, in minutes: the offered ones up to the maximum (never none)."""
    return sorted({m for m in offered if 0 < m <= maximum}) or [maximum]


def minutes_label(minutes: float) -> str:
    if minutes < 1:
        return f"{round(minutes * 60)} seconds"
    if minutes >= 60:
        hours, rest = int(minutes // 60), minutes % 60
        said = f"{hours} hour{'s' if hours != 1 else ''}"
        return said + (f" {minutes_label(rest)}" if rest else "")
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"


def reminder_lead_seconds(limit_seconds: int, reminder_minutes: float) -> float:
    """How long before the end the reminder comes: the setting, or half the limit when that is shorter."""
    return min(reminder_minutes * 60, limit_seconds / 2)


def extension_blocker(limit_seconds: int, add_minutes: float, offered: list[float], maximum: float) -> str:
    """Why this extension is refused, or "": one of the offered steps, and the whole session within the maximum."""
    if add_minutes not in time_limit_choices(offered, maximum):
        return "Choose one of the offered extensions (the page lists them, as does /api/v1/time-limits/)."
    if limit_seconds + add_minutes * 60 > maximum * 60 + 0.5:
        return (f"A rescue session may last at most {minutes_label(maximum)} in all; this one already has "
                f"{minutes_label(limit_seconds / 60)}. End it and start a new one if you need more time.")
    return ""


def not_running_blocker(power: str, remote: dict) -> str:
    """Before "restarted from inside" ends a rescue: the device must answer as running, with no
    SoftLayer transaction under way (the seeds' check that it is back)."""
    active = remote.get("activeTransaction")
    if active:
        status = (active.get("transactionStatus") or {}).get("friendlyName") or "a transaction"
        return f"SoftLayer is running a transaction on this device ({status}). Wait until it has finished."
    if power != "on":
        return ("SoftLayer says the device is powered off, so it has not come back yet. Wait a minute and try "
                "again, or use Actions → Restart.")
    return ""
