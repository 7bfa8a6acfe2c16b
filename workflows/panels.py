"""What workflows adds to the device page (devices.panels): the running operation's progress, how
to connect to a device in rescue, recent operations, and the items of the Actions menu."""

from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import policy
from accounts.capabilities import BY_KEY, REMOTE_MANAGEMENT, SERVER_RELOAD, VIEW_CUSTOMER_SOFTWARE_PASSWORD
from devices import panels
from devices.models import Device

from . import selectors
from .models import Operation
from .rules import EXIT_KIND


def progress(request, device: Device) -> str:
    op = selectors.active_operation(device)
    return render_to_string("workflows/_progress.html", {"op": op, "on_device_page": True}, request) if op else ""


def session(request, device: Device) -> str:
    op = selectors.current_session(device)
    return render_to_string("workflows/_session.html", session_context(request.user, op), request) if op else ""


def session_context(user, op) -> dict:
    """What the time-limit card shows: the time left, and what this user may do about it."""
    from .forms import ExtendForm
    from .services import CAPABILITY

    last_exit = selectors.last_automatic_exit(op)
    room = settings.RESCUE_TIME_LIMIT_MAX_MINUTES - (op.time_limit_seconds or 0) / 60
    return {"session": op, "may_act": policy.can(user, CAPABILITY[op.kind], op.device),
            "may_end": policy.can(user, CAPABILITY[EXIT_KIND[op.kind]], op.device),
            "extend_form": ExtendForm(room_minutes=room), "last_exit": last_exit,
            "next_try_at": op.auto_exit_last_at + timedelta(seconds=settings.AUTO_EXIT_RETRY_SECONDS)
            if last_exit and last_exit.state == Operation.State.FAILED else None}


def connect(request, device: Device, *, out_of_band: bool = False, on_device_page: bool = True) -> str:
    """How to connect, in a slot that a progress card fills when its operation gets there
    (`out_of_band`: sent beside the card, swapped in by htmx; the page needs no reload)."""
    connection = selectors.how_to_connect(device)
    return render_to_string("workflows/_connect_slot.html", {
        "device": device, "connection": connection, "out_of_band": out_of_band, "on_device_page": on_device_page,
        "can_reveal": connection is not None and policy.can(request.user, VIEW_CUSTOMER_SOFTWARE_PASSWORD, device),
    }, request)


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


def bulk_tool(request, querystring: str, count: int) -> str:
    """Above the Device List's rows: act on the ticked devices, or on all matching the filter."""
    may_rescue, may_restart = policy.can(request.user, SERVER_RELOAD), policy.can(request.user, REMOTE_MANAGEMENT)
    if not (may_rescue or may_restart):
        return ""
    return render_to_string("workflows/_bulk_tool.html", {
        "querystring": querystring, "count": count, "max": settings.BULK_MAX_DEVICES,
        "may_rescue": may_rescue, "may_restart": may_restart}, request)


def register() -> None:
    panels.register_panel("top", progress, order=10)
    panels.register_panel("top", session, order=15)
    panels.register_panel("top", connect, order=20)
    panels.register_panel("rescue", recent)
    panels.register_actions(actions)
    panels.register_list_tool(bulk_tool)
