"""An audit row told as a sentence, for the device page's history: operators read what happened,
not the row's JSON. Pure: plain values in, a string out (the auditors' log keeps the raw detail)."""

from workflows.models import Operation

ACTIONS = {"device.rescue": "Rescue mode", "device.boot_image": "Boot from image",
           "device.unload_image": "Continue (unload the image)", "device.restart": "Restart"}
DONE = {"device.rescue": "the device is in rescue mode", "device.boot_image": "the device booted from the image",
        "device.unload_image": "the image is unloaded and the device boots normally",
        "device.restart": "the device runs normally"}
STATES = dict(Operation.State.choices)


def describe(event: str, outcome: str, actor: str, detail: dict | None, reason: str = "") -> str:
    """One sentence, ending with a full stop; the reason given (or the refusal's) follows it."""
    detail = detail or {}
    who = actor or "The portal"
    sentence = _operation(event, outcome, who, detail) or _other(event, outcome, who, detail)
    if sentence is None:
        sentence = f"{event}: {outcome}."
    return f"{sentence} {_reason(event, outcome, detail, reason)}".strip()


def _operation(event: str, outcome: str, who: str, detail: dict) -> str | None:
    action = ACTIONS.get(event)
    if action is None:
        return None
    if detail.get("image") and event == "device.boot_image":
        action = f"Boot from image ({detail['image']})"
    if outcome == "requested":
        step = detail.get("step")
        if step is None:
            automatic = " at the session's time limit" if detail.get("automatic") else ""
            return f"{who} asked for {action}{automatic}."
        if step == "about to submit":
            return f"{action}: the portal is sending it to SoftLayer."
        if step == "accepted by SoftLayer":
            return f"{action}: SoftLayer accepted it."
        return f"{action}: {STATES.get(step, step).lower()}."
    if outcome == "succeeded":
        if detail.get("state") == Operation.State.EXITED:
            how = detail.get("how", "a later operation")
            return f"The device left {'rescue mode' if event == 'device.rescue' else 'the image'} ({how}, by {who})."
        return f"{action} finished: {DONE[event]}."
    if outcome == "failed":
        return f"{action} failed."
    if outcome == "denied":
        return f"{who} was refused {action}."
    return None


def _other(event: str, outcome: str, who: str, detail: dict) -> str | None:
    if event == "device.credentials.reveal":
        users = ", ".join(str(u) for u in detail.get("usernames", []) if u)
        return {"succeeded": f"{who} revealed the password{f' of {users}' if users else ''} (sent to the page).",
                "failed": f"{who} asked for the password; SoftLayer could not be read.",
                "denied": f"{who} was refused the password."}.get(outcome)
    if event == "device.credentials.shown" and outcome == "succeeded":
        return f"The password appeared on {who}'s page."
    if event == "rescue_session.extend":
        if outcome == "succeeded":
            return f"{who} gave the session {_minutes(detail.get('added_minutes'))} more."
        return f"{who} was refused more time for the session."
    if event == "rescue_session.reminder":
        return f"The portal reminded {who} that the session ends soon."
    if event == "rescue_session.back_from_inside":
        if outcome == "succeeded":
            return f"{who} said the device was restarted from inside the rescue system."
        return f"{who} said the device was restarted from inside; the portal did not take it."
    return None


def _reason(event: str, outcome: str, detail: dict, reason: str) -> str:
    if not reason or event == "rescue_session.reminder" or (
            outcome == "requested" and detail.get("step") is not None):
        return ""  # a step repeats the request's reason: once is enough
    prefix = "Reason" if outcome in ("requested", "succeeded") else "Why"
    return f"{prefix}: {reason.rstrip('.')}."


def _minutes(value) -> str:
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        return "some"
    if minutes >= 60 and minutes % 60 == 0:
        hours = int(minutes // 60)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes:g} minutes"
