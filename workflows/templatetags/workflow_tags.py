from django import template
from django.utils import timezone

from workflows.models import Operation
from workflows.rules import minutes_label

register = template.Library()
State = Operation.State
FINAL_LABEL = {Operation.Kind.RESCUE: "In rescue", Operation.Kind.BOOT_IMAGE: "Booted from the image",
               Operation.Kind.UNLOAD_IMAGE: "Back to normal", Operation.Kind.RESTART: "Back to normal"}
ORDER = [State.QUEUED, State.SUBMITTING, State.POWERING_DOWN, State.BOOTING]


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


@register.filter
def timeline(op: Operation) -> list[dict]:
    """requested → submitted → powering down → booting → done, each done / current / todo / failed."""
    labels = ["Requested", "Submitted", "Powering down", "Booting", FINAL_LABEL[op.kind]]
    if op.is_active:
        reached = {State.QUEUED: 0, State.SUBMITTING: 1, State.POWERING_DOWN: 2, State.BOOTING: 3}[op.state]
        return [{"label": label, "status": "done" if i < reached else "current" if i == reached else "todo"}
                for i, label in enumerate(labels)]
    if op.state == State.FAILED:
        reached = 2 if op.submitted_at else 1 if op.submit_started_at else 0
        steps = [{"label": label, "status": "done" if i < reached else "todo"} for i, label in enumerate(labels)]
        steps[reached] = {"label": f"{labels[reached]}: failed", "status": "failed"}
        return steps
    return [{"label": label, "status": "done"} for label in labels]


@register.filter
def elapsed(op: Operation) -> str:
    return _duration(((op.finished_at or timezone.now()) - op.created_at).total_seconds())


@register.filter
def remaining(op: Operation) -> str:
    if not (op.provider_estimate_seconds and op.submitted_at):
        return ""
    left = op.provider_estimate_seconds - (timezone.now() - op.submitted_at).total_seconds()
    return _duration(left) if left > 0 else ""


@register.filter
def time_left(op: Operation) -> str:
    """'43 min' / '50 s' / 'over' for a rescue session's time limit."""
    if not op.ends_at:
        return ""
    left = (op.ends_at - timezone.now()).total_seconds()
    if left <= 0:
        return "over"
    return f"{int(left // 3600)} h {int(left % 3600 // 60):02d} min" if left >= 3600 else _duration(left)


@register.filter
def minutes_of(seconds) -> str:
    """A session's limit in seconds, said as people say it ('4 hours 30 minutes')."""
    return minutes_label((seconds or 0) / 60)


@register.filter
def duration(seconds) -> str:
    return _duration(seconds or 0)


@register.filter
def state_in(op: Operation, names: str) -> bool:
    """`{% if op|state_in:"in_rescue,exited" %}`: templates ask the state machine; a misspelt state fails."""
    return op.is_in(*(name.strip() for name in names.split(",")))


@register.filter
def status_in(device, names: str) -> bool:
    """`{% if device|status_in:"in_rescue" %}`, checked against the device's statuses the same way."""
    wanted = {name.strip() for name in names.split(",")}
    unknown = wanted - set(type(device).Status.values)
    if unknown:
        raise ValueError(f"Not device statuses: {sorted(unknown)}")
    return device.status in wanted


@register.filter
def batch_active(batch, items) -> bool:
    """Still worth watching: some device's operation is under way."""
    return any(item.operation and item.operation.is_active for item in items)


@register.filter
def batch_summary(items) -> str:
    """'7 in rescue · 2 under way · 1 failed · 1 refused' (counts of what people care about)."""
    counts: dict[str, int] = {}
    for item in items:
        label = "refused" if item.operation is None else (
            "under way" if item.operation.is_active else item.operation.get_state_display().lower())
        counts[label] = counts.get(label, 0) + 1
    return " · ".join(f"{n} {label}" for label, n in counts.items()) or "Nothing in this batch."
