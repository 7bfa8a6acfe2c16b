"""What workflows adds to the device page (devices.panels): the running operation's progress, how
to connect to a device in rescue, recent operations, and the items of the Actions menu."""

from django.template.loader import render_to_string
from django.urls import reverse

from accounts import policy
from accounts.capabilities import BY_KEY, REMOTE_MANAGEMENT, SERVER_RELOAD, VIEW_CUSTOMER_SOFTWARE_PASSWORD
from devices import panels
from devices.models import Device

from . import selectors


def progress(request, device: Device) -> str:
    op = selectors.active_operation(device)
    return render_to_string("workflows/_progress.html", {"op": op}, request) if op else ""


def connect(request, device: Device) -> str:
    if device.status not in (Device.Status.IN_RESCUE, Device.Status.IMAGE_MOUNTED):
        return ""
    return render_to_string("workflows/_connect.html", {
        "device": device, "can_reveal": policy.can(request.user, VIEW_CUSTOMER_SOFTWARE_PASSWORD, device)}, request)


def recent(request, device: Device) -> str:
    return render_to_string("workflows/_recent.html",
                            {"recent_operations": selectors.recent_operations(device)}, request)


def actions(user, device: Device) -> list[panels.Action]:
    """The Actions menu: each item, whether this user may use it here, and why not."""
    items = [("rescue", "Rescue mode", SERVER_RELOAD), ("restart", "Restart", REMOTE_MANAGEMENT)]
    if device.kind == Device.Kind.VIRTUAL:
        items.insert(1, ("boot_image", "Boot from image", SERVER_RELOAD))
    return [panels.Action(key=key, label=label, url=reverse(f"workflows:{key}", args=[device.pk]),
                          needs=BY_KEY[capability].name,
                          permitted=device.vanished_at is None and policy.can(user, capability, device))
            for key, label, capability in items]


def register() -> None:
    panels.register_panel("top", progress, order=10)
    panels.register_panel("top", connect, order=20)
    panels.register_panel("rescue", recent)
    panels.register_actions(actions)
