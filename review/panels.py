"""What review adds to the device page (devices.panels): the device's own history."""

from django.template.loader import render_to_string

from accounts import policy
from accounts.capabilities import USER_EVENT_LOG_VIEW
from audit.selectors import device_timeline
from devices import panels


def history(request, device) -> str:
    return render_to_string("audit/_history.html", {
        "device": device, "timeline": device_timeline(device),
        "full": policy.can(request.user, USER_EVENT_LOG_VIEW)}, request)


def register() -> None:
    panels.register_panel("bottom", history)
