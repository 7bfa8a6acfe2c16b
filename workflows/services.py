"""Writes of the rescue workflows: create an operation, move it through its states, audit each step.

The Operation row is the source of truth; jobs (workflows.jobs) call these functions.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import policy
from accounts.capabilities import BY_KEY, REMOTE_MANAGEMENT, SERVER_RELOAD, VIEW_CUSTOMER_SOFTWARE_PASSWORD
from accounts.refusals import Refused, Why
from audit.services import record
from devices import provider
from devices import services as inventory
from devices.models import Device

from . import events, progress
from .models import Batch, BatchItem, Operation
from .queue import enqueue_submit
from .rules import (
    EXIT_KIND,
    extension_blocker,
    minutes_label,
    not_running_blocker,
    reminder_lead_seconds,
    reveal_blocker,
    state_blocker,
    time_limit_choices,
)

log = logging.getLogger(__name__)

State, Kind = Operation.State, Operation.Kind
SESSION_STATES = (State.IN_RESCUE, State.IMAGE_MOUNTED)
EVENTS = {Kind.RESCUE: "device.rescue", Kind.BOOT_IMAGE: "device.boot_image",
          Kind.UNLOAD_IMAGE: "device.unload_image", Kind.RESTART: "device.restart"}
CAPABILITY = {Kind.RESCUE: SERVER_RELOAD, Kind.BOOT_IMAGE: SERVER_RELOAD, Kind.UNLOAD_IMAGE: SERVER_RELOAD,
              Kind.RESTART: REMOTE_MANAGEMENT}
# What the device is when each kind of operation has done its work.
DONE_STATE = {Kind.RESCUE: State.IN_RESCUE, Kind.BOOT_IMAGE: State.IMAGE_MOUNTED, Kind.UNLOAD_IMAGE: State.NORMAL,
              Kind.RESTART: State.NORMAL}
DEVICE_STATUS = {State.IN_RESCUE: Device.Status.IN_RESCUE, State.IMAGE_MOUNTED: Device.Status.IMAGE_MOUNTED,
                 State.NORMAL: Device.Status.NORMAL}


class OperationRefused(Refused):
    pass


def _audit(op: Operation, outcome: str, reason: str = "", **detail) -> None:
    record(EVENTS[op.kind], outcome, actor=op.requested_by,
           device=op.device, operation_id=op.pk, reason=reason or op.reason,
           detail={"state": op.state, "kind": op.kind, **({"image": op.iso_image_name} if op.iso_image_name else {}),
                   **detail})


def _refuse_replay(event: str, confirmation: str, device: Device) -> None:
    used = Operation.objects.filter(confirmation=confirmation).first() if confirmation else None
    if used:
        text = "This Yes was already used; nothing new was requested."
        record(event, "denied", device=device, operation_id=used.pk, reason=text)
        raise OperationRefused(text, Why.CONFLICT, used)


def offered_time_limits() -> list[float]:
    """The time limits (minutes) a rescue or an image boot may be given, and the extensions offered."""
    return time_limit_choices(settings.RESCUE_TIME_LIMIT_CHOICES_MINUTES, settings.RESCUE_TIME_LIMIT_MAX_MINUTES)


def default_time_limit() -> float:
    choices = offered_time_limits()
    wanted = settings.RESCUE_TIME_LIMIT_DEFAULT_MINUTES
    return wanted if wanted in choices else min(choices, key=lambda m: abs(m - wanted))


def _time_limit_seconds(kind: str, minutes: float | None, device: Device) -> int | None:
    if kind not in EXIT_KIND:
        return None
    minutes = default_time_limit() if minutes is None else minutes
    if minutes not in offered_time_limits():
        text = "Choose one of the offered time limits (the page lists them, as does /api/v1/time-limits/)."
        record(EVENTS[kind], "denied", device=device, reason=text, detail={"time_limit_minutes": str(minutes)[:20]})
        raise OperationRefused(text, Why.INVALID)
    return round(minutes * 60)


def request_operation(user, device: Device, kind: str, *, reason: str = "", iso_image: dict | None = None,
                      rescue_os: str = "", confirmation: str = "", time_limit_minutes: float | None = None,
                      automatic: bool = False) -> Operation:
    """Check, create the row, audit, and enqueue the submit job when the transaction commits.

    `confirmation` is the nonce of the Yes that asked (web requests): each may be used once.
    `automatic` is the portal's own exit at a time limit, asked on the requester's behalf: it needs
    no capability of theirs (ending a rescue they started is always allowed)."""
    event = EVENTS[kind]
    if not automatic and not policy.can(user, CAPABILITY[kind], device):
        reason_text = "You do not have permission to do this on this device."
        record(event, "denied", device=device, reason=reason_text)
        raise OperationRefused(reason_text)
    _refuse_replay(event, confirmation, device)
    if device.vanished_at is not None:
        gone = "This device is no longer in the SoftLayer account."
        record(event, "denied", device=device, reason=gone)
        raise OperationRefused(gone, Why.CONFLICT)
    if blocker := state_blocker(device, kind):
        record(event, "denied", device=device, reason=blocker)
        raise OperationRefused(blocker, Why.CONFLICT)
    limit = _time_limit_seconds(kind, time_limit_minutes, device)
    now = timezone.now()
    op = Operation(device=device, requested_by=user, kind=kind, reason=reason.strip()[:500], rescue_os=rescue_os,
                   confirmation=confirmation or None, device_status_before=device.status,
                   time_limit_seconds=limit, automatic=automatic,
                   iso_image_id=(iso_image or {}).get("id"), iso_image_name=(iso_image or {}).get("name", ""),
                   deadline_at=now + timedelta(minutes=settings.OPERATION_DEADLINE_MINUTES))
    try:
        with transaction.atomic():
            op.save()
            if kind in (Kind.RESCUE, Kind.BOOT_IMAGE):
                inventory.report_status(device.pk, Device.Status.RESCUE_IN_PROGRESS)
            _audit(op, "requested", **({"time_limit_minutes": limit / 60} if limit else {}),
                   **({"automatic": "time limit"} if automatic else {}))
            enqueue_submit(op.pk)
    except IntegrityError:
        _refuse_replay(event, confirmation, device)  # the same Yes twice at the same moment
        running = Operation.objects.filter(device=device, state__in=Operation.ACTIVE_STATES).first()
        busy = "An operation is already in progress on this device."
        record(event, "denied", device=device, reason=busy,
               detail={"running_operation": running.pk if running else None})
        raise OperationRefused(busy, Why.CONFLICT, running) from None
    return op


def _save(op: Operation, *fields: str) -> None:
    op.save(update_fields=[*fields, "updated_at"])


def start_submitting(op: Operation) -> None:
    """Recorded before the provider is called, so a retry knows a submit may have happened."""
    now = timezone.now()
    op.state, op.submit_started_at, op.unanswered_submit_at = State.SUBMITTING, op.submit_started_at or now, now
    op.submit_attempts += 1
    with transaction.atomic():  # the state and its audit row together, or neither
        _save(op, "state", "submit_started_at", "submit_attempts", "unanswered_submit_at")
        if op.submit_attempts == 1:
            _audit(op, "requested", step="about to submit")


def submit_refused(op: Operation) -> None:
    """SoftLayer answered and took nothing (a rate-limit fault): it may be sent again at once."""
    op.unanswered_submit_at = None
    _save(op, "unanswered_submit_at")


def note_provider_problem(op: Operation, message: str) -> None:
    """Shown on the operation's page while the portal waits for SoftLayer; not a failure (the
    portal retries by itself, so the gateway's advice to try again is left out)."""
    message = message.removesuffix(" Try again in a few minutes.")[:500]
    if op.provider_problem != message:
        op.provider_problem = message
        _save(op, "provider_problem")


def submitted(op: Operation, transaction_id: int | None = None) -> None:
    op.state, op.submitted_at, op.provider_problem = State.POWERING_DOWN, timezone.now(), ""
    op.provider_transaction_id, op.unanswered_submit_at = transaction_id or op.provider_transaction_id, None
    with transaction.atomic():
        _save(op, "state", "submitted_at", "provider_transaction_id", "provider_problem", "unanswered_submit_at")
        _audit(op, "requested", step="accepted by SoftLayer")


def _end(op: Operation, **fields) -> bool:
    """Move an active operation to its end once: False if another job already ended it."""
    fields["updated_at"] = timezone.now()
    if not Operation.objects.filter(pk=op.pk, state__in=Operation.ACTIVE_STATES).update(**fields):
        op.refresh_from_db()
        return False
    for name, value in fields.items():
        setattr(op, name, value)
    return True


def fail(op: Operation, message: str, outcome: str = "failed") -> None:
    """The operation ends. If SoftLayer took the request, the device shows Failed until a sync sees it
    running again; if nothing was sent, the device keeps the status it had."""
    with transaction.atomic():
        if not _end(op, state=State.FAILED, error=message, finished_at=timezone.now()):
            return
        if op.kind in (Kind.RESCUE, Kind.BOOT_IMAGE):
            accepted = op.submitted_at is not None or op.saw_transaction
            inventory.report_status(op.device_id, Device.Status.FAILED if accepted else (
                op.device_status_before or Device.Status.NORMAL), provider_transaction="")
        _audit(op, outcome, reason=message)
        events.publish(events.SESSION_EXIT_FAILED if op.automatic else events.OPERATION_FAILED, op.pk)
    log.warning("Operation %s failed: %s", op.pk, message)


def finish(op: Operation) -> None:
    done = DONE_STATE[op.kind]
    now = timezone.now()
    session = {"ends_at": now + timedelta(seconds=op.time_limit_seconds)} if op.time_limit_seconds else {}
    with transaction.atomic():
        if not _end(op, state=done, finished_at=now, provider_status="", **session):
            return
        inventory.report_status(op.device_id, DEVICE_STATUS[done], provider_transaction="",
                                power_state=Device.Power.ON, **({"session_ends_at": op.ends_at} if session else {}))
        _audit(op, "succeeded")
        if done == State.NORMAL:
            _close_rescue(op)
        events.publish(events.SESSION_EXITED if op.automatic else events.OPERATION_SUCCEEDED, op.pk)


def _close_rescue(exit_op: Operation) -> None:
    """A Restart or Continue that brought the device back ends the rescue or image boot before it."""
    ended = Operation.objects.filter(device_id=exit_op.device_id, kind__in=(Kind.RESCUE, Kind.BOOT_IMAGE),
                                     state__in=(State.IN_RESCUE, State.IMAGE_MOUNTED),
                                     created_at__lt=exit_op.created_at)
    for rescue in ended.select_related("device", "requested_by"):
        rescue.state, rescue.exited_at, rescue.ended_by = State.EXITED, exit_op.finished_at, exit_op
        _save(rescue, "state", "exited_at", "ended_by")
        record(EVENTS[rescue.kind], "succeeded", actor=exit_op.requested_by, device=rescue.device,
               operation_id=rescue.pk, reason=exit_op.reason,
               detail={"state": State.EXITED, "kind": rescue.kind, "ended_by_operation": exit_op.pk,
                       "how": exit_op.get_kind_display()})


def provider_took_it(op: Operation, remote: dict) -> bool:
    """Did the provider accept a submit whose answer we never got? (Its transaction shows.)"""
    return progress.provider_took_it(remote, op.submit_started_at)


def apply_progress(op: Operation, remote: dict, seen_at=None, unchanged: list | None = None) -> None:
    """One look at the device (begun at `seen_at`): phase, the provider's status and estimate, or completion.

    `remote` is the device as SoftLayer showed it; a device SoftLayer says is gone is `device_gone`'s work.
    A look that changes nothing of the operation writes nothing to it; its observation of the device
    is appended to `unchanged` (device id, status) for the caller to record in bulk, or written now.
    """
    seen_at = seen_at or timezone.now()
    reading = progress.read(op.device.kind, remote, progress.Memory(
        state=op.state, provider_status=op.provider_status, provider_transaction_id=op.provider_transaction_id,
        saw_transaction=op.saw_transaction, saw_power_off=op.saw_power_off, submit_started_at=op.submit_started_at))
    if reading.outcome == progress.DONE:
        return finish(op)
    if reading.outcome == progress.WAITING:
        if timezone.now() > op.deadline_at:
            fail(op, "SoftLayer did not start the transaction in time. Check the device in the IBM Cloud "
                     "console, then try again.")
        return None
    changed = reading.state != op.state
    fields = {"state": reading.state, "provider_status": reading.provider_status, "saw_transaction": True,
              "saw_power_off": reading.saw_power_off, "provider_problem": "",
              "provider_transaction_id": reading.transaction_id,
              "provider_estimate_seconds": reading.estimate_seconds or op.provider_estimate_seconds}
    if all(getattr(op, name) == value for name, value in fields.items()):
        if unchanged is None:
            inventory.report_observation(op.device_id, seen_at, provider_transaction=reading.provider_status)
        else:
            unchanged.append((op.device_id, reading.provider_status))
        return None
    with transaction.atomic():
        # compare-and-set: another job may have ended it meanwhile
        if not Operation.objects.filter(pk=op.pk, state__in=Operation.IN_FLIGHT_STATES).update(
                **fields, updated_at=timezone.now()):
            return None
        for name, value in fields.items():
            setattr(op, name, value)
        inventory.report_observation(op.device_id, seen_at, provider_transaction=reading.provider_status)
        if changed:
            _audit(op, "requested", step=reading.state)
    return None


def device_gone(op: Operation) -> None:
    """SoftLayer itself answered that the device does not exist (a direct read, not a missing row)."""
    fail(op, "SoftLayer no longer knows this device (it may have been cancelled).")


def expire_if_stuck(op: Operation) -> bool:
    if op.is_active and timezone.now() > op.deadline_at:
        fail(op, f"Still not finished after {settings.OPERATION_DEADLINE_MINUTES} minutes: the provider's "
                 "transaction seems stuck. Check the device in the IBM Cloud console or open a support case.")
        return True
    return False


# --- Rescue sessions: time limit, reminder, extension, exit at the end, "restarted from inside" -----------


def check_may_act_on_session(user, op: Operation, event: str) -> None:
    """Extending a session or closing it takes the capability that started it; a refusal is audited."""
    if not policy.can(user, CAPABILITY[op.kind], op.device):
        text = f"You need the {BY_KEY[CAPABILITY[op.kind]].name} permission on this device to do this."
        record(event, "denied", device=op.device, operation_id=op.pk, reason=text)
        raise OperationRefused(text)


def remind_at(op: Operation):
    return op.ends_at - timedelta(seconds=reminder_lead_seconds(op.time_limit_seconds or 0,
                                                                settings.RESCUE_REMINDER_MINUTES))


def remind(op: Operation) -> bool:
    """The reminder before the end, once (compare-and-set): True when this call gave it."""
    now = timezone.now()
    with transaction.atomic():
        if not Operation.objects.filter(pk=op.pk, reminded_at__isnull=True, state__in=SESSION_STATES).update(
                reminded_at=now, updated_at=now):
            return False
        op.reminded_at = now
        record("rescue_session.reminder", "succeeded", actor=op.requested_by, device=op.device, operation_id=op.pk,
               reason=f"{op.get_kind_display()} ends at {op.ends_at:%H:%M} UTC unless extended.",
               detail={"ends_at": op.ends_at.isoformat(), "kind": op.kind})
        events.publish(events.SESSION_REMINDER, op.pk)
    return True


def note_long_wait(op: Operation) -> bool:
    """An operation still under way after OPERATION_SLOW_MINUTES: said once (compare-and-set)."""
    now = timezone.now()
    with transaction.atomic():
        if not Operation.objects.filter(pk=op.pk, slow_notified_at__isnull=True,
                                        state__in=Operation.ACTIVE_STATES).update(slow_notified_at=now):
            return False
        events.publish(events.OPERATION_WAITING, op.pk)
    return True


def extend(user, op: Operation, minutes: float, reason: str) -> Operation:
    """More time for a running session: the session's own capability, one of the offered steps, the
    whole session within the maximum; audited with the reason."""
    check_may_act_on_session(user, op, "rescue_session.extend")
    reason = reason.strip()[:500]
    refusal = _extension_refusal(op, minutes, reason)
    if refusal:
        record("rescue_session.extend", "denied", device=op.device, operation_id=op.pk, reason=refusal.reason)
        raise refusal
    added = round(minutes * 60)
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=op.pk)
        if not locked.is_session:
            raise OperationRefused("This session has already ended.", Why.CONFLICT)
        if blocker := extension_blocker(locked.time_limit_seconds or 0, minutes, offered_time_limits(),
                                        settings.RESCUE_TIME_LIMIT_MAX_MINUTES):  # a second extension at once
            raise OperationRefused(blocker, Why.INVALID)
        # From the later of the old end and now: an overdue session gets the time asked for.
        ends_at = max(locked.ends_at, timezone.now()) + timedelta(seconds=added)
        Operation.objects.filter(pk=op.pk).update(ends_at=ends_at, time_limit_seconds=locked.time_limit_seconds + added,
                                                  reminded_at=None, updated_at=timezone.now())
        inventory.report_session_end(op.device_id, ends_at)
        record("rescue_session.extend", "succeeded", device=op.device, operation_id=op.pk, reason=reason,
               detail={"added_minutes": minutes, "ends_at": ends_at.isoformat()})
    op.refresh_from_db()
    return op


def _session_state_refusal(op: Operation) -> str:
    """Why a session cannot be extended or closed now: not there yet, over, or already being left."""
    if op.is_active:
        return "The device has not reached rescue yet: wait until this operation has finished."
    if not op.is_session:
        return "This session has already ended."
    if Operation.objects.filter(device_id=op.device_id, state__in=Operation.ACTIVE_STATES).exists():
        return "The device is already leaving this session (an operation is under way on it)."
    return ""


def _extension_refusal(op: Operation, minutes: float, reason: str) -> OperationRefused | None:
    if text := _session_state_refusal(op) or ("" if op.ends_at else "This session has no time limit to extend."):
        return OperationRefused(text, Why.CONFLICT)
    if not reason:
        return OperationRefused("Say why the session needs more time (kept in the audit trail).", Why.INVALID)
    if blocker := extension_blocker(op.time_limit_seconds or 0, minutes, offered_time_limits(),
                                    settings.RESCUE_TIME_LIMIT_MAX_MINUTES):
        return OperationRefused(blocker, Why.INVALID)
    return None


def exit_at_time_limit(op: Operation) -> Operation | None:
    """At the end of the time limit the portal asks for the exit itself (Restart, or Continue for an
    image) on the requester's behalf. At most one at a time: a compare-and-set on the last attempt,
    and the one-active-operation constraint; tried again after AUTO_EXIT_RETRY_SECONDS if it failed."""
    now = timezone.now()
    retry_before = now - timedelta(seconds=settings.AUTO_EXIT_RETRY_SECONDS)
    due = Operation.objects.filter(pk=op.pk, state__in=SESSION_STATES, ends_at__lte=now).filter(
        Q(auto_exit_last_at__isnull=True) | Q(auto_exit_last_at__lte=retry_before))
    if Operation.objects.filter(device_id=op.device_id, state__in=Operation.ACTIVE_STATES).exists():
        return None  # an exit (or another operation) is under way; look again next time
    if not due.update(auto_exit_last_at=now, auto_exit_attempts=F("auto_exit_attempts") + 1, updated_at=now):
        return None
    limit = minutes_label((op.time_limit_seconds or 0) / 60)
    try:
        return request_operation(op.requested_by, op.device, EXIT_KIND[op.kind], automatic=True,
                                 reason=f"Time limit of {limit} reached: the portal ended the session.")
    except OperationRefused as refused:
        log.warning("Exit at the time limit of operation %s refused: %s", op.pk, refused.reason)
        if Device.objects.filter(pk=op.device_id, vanished_at__isnull=False).exists():
            _close_vanished_session(op)
        return None


def _close_vanished_session(op: Operation) -> None:
    """A device that left the SoftLayer account cannot be restarted: its session is closed, said
    once, and not tried again."""
    now = timezone.now()
    with transaction.atomic():
        if not Operation.objects.filter(pk=op.pk, state__in=SESSION_STATES).update(
                state=State.EXITED, exited_at=now, updated_at=now,
                exit_note="Closed at the time limit: the device is no longer in the SoftLayer account"):
            return
        record(EVENTS[op.kind], "failed", actor=op.requested_by, device=op.device, operation_id=op.pk,
               reason="The time limit was reached, but the device is no longer in the SoftLayer account; "
                      "the session was closed without a restart.", detail={"state": State.EXITED})
        events.publish(events.SESSION_EXIT_FAILED, op.pk)


def back_from_inside(user, op: Operation) -> Operation:
    """Someone restarted the device from inside the rescue OS: SoftLayer shows no rescue flag, so the
    portal is told. Nothing is sent; the device must answer as running with no transaction."""
    check_may_act_on_session(user, op, "rescue_session.back_from_inside")
    text = _session_state_refusal(op)
    if not text and op.kind != Kind.RESCUE:
        text = ("Only a device in rescue mode can be marked back to normal this way (an image stays mounted "
                "until Continue).")
    if text:
        record("rescue_session.back_from_inside", "denied", device=op.device, operation_id=op.pk, reason=text)
        raise OperationRefused(text, Why.CONFLICT)
    gateway = provider.Gateway(interactive=True)
    try:
        remote = provider.progress_of_one(gateway, op.device.kind, op.device.provider_id)
        power = gateway.power_state(op.device.kind, op.device.provider_id)
    except provider.ProviderError as exc:
        record("rescue_session.back_from_inside", "failed", device=op.device, operation_id=op.pk, reason=exc.message)
        raise OperationRefused(f"SoftLayer could not be asked whether the device runs: {exc.message}",
                               Why.UNAVAILABLE) from None
    if blocker := not_running_blocker(power, remote):
        record("rescue_session.back_from_inside", "denied", device=op.device, operation_id=op.pk, reason=blocker)
        raise OperationRefused(blocker, Why.CONFLICT)
    now = timezone.now()
    with transaction.atomic():
        if not Operation.objects.filter(pk=op.pk, state=State.IN_RESCUE).update(
                state=State.EXITED, exited_at=now, updated_at=now,
                exit_note=f"Restarted from inside the rescue system (told by {user.get_username()})"):
            raise OperationRefused("This session has already ended.", Why.CONFLICT)
        inventory.report_status(op.device_id, Device.Status.NORMAL, provider_transaction="",
                                power_state=Device.Power.ON)
        record("rescue_session.back_from_inside", "succeeded", device=op.device, operation_id=op.pk,
               detail={"state": State.EXITED})
    op.refresh_from_db()
    return op


# --- Reveal password (browser and API alike; each asks for its own step-up in between) ----------------

REVEAL_EVENT = "device.credentials.reveal"
SHOWN_EVENT = "device.credentials.shown"


def check_may_reveal(user, device: Device) -> None:
    """The permission, then the device's state; a refusal is audited."""
    if not policy.can(user, VIEW_CUSTOMER_SOFTWARE_PASSWORD, device):
        text = "You need the View Customer Software Password permission for this device."
        record(REVEAL_EVENT, "denied", device=device, reason=text)
        raise OperationRefused(text)
    if blocker := reveal_blocker(device):
        record(REVEAL_EVENT, "denied", device=device, reason=blocker)
        raise OperationRefused(blocker, Why.CONFLICT)


def reveal_passwords(user, device: Device) -> tuple[list[dict], int]:
    """Fetch the passwords from SoftLayer for a person who passed check_may_reveal and the step-up.
    Audited before they leave (the usernames, never a password); nothing is kept. Returns them and
    the audit row's number, which a page that shows them quotes back (password_shown)."""
    check_may_reveal(user, device)
    try:
        credentials = provider.passwords(provider.Gateway(interactive=True), device.kind, device.provider_id)
    except provider.ProviderError as exc:
        record(REVEAL_EVENT, "failed", device=device, reason=exc.message)
        raise OperationRefused(exc.message, Why.UNAVAILABLE) from None
    row = record(REVEAL_EVENT, "succeeded", device=device,
                 detail={"usernames": [c.get("username") for c in credentials]})
    return credentials, row.seq


def password_shown(user, device: Device, reveal_seq: int) -> None:
    """The browser put the revealed password on the page. A reveal whose answer never arrived (the
    person left the page meanwhile) has no such row: the trail tells sent from seen."""
    record(SHOWN_EVENT, "succeeded", actor=user, device=device, detail={"reveal_seq": reveal_seq})


# --- Bulk rescue ---------------------------------------------------------------------------------------

BATCH_KINDS = (Kind.RESCUE, Kind.RESTART)


def request_batch(user, kind: str, devices: list[Device], *, confirmation: str, reason: str = "",
                  time_limit_minutes: float | None = None) -> Batch:
    """One Yes, one operation per device through request_operation (its checks, its audit, its
    queue); a refused device is kept on the batch with the reason. The Yes is used once."""
    if kind not in BATCH_KINDS:
        raise OperationRefused("Only Rescue mode and Restart are offered for many devices at once.", Why.INVALID)
    if not devices:
        raise OperationRefused("Select at least one device.", Why.INVALID)
    if len(devices) > settings.BULK_MAX_DEVICES:
        raise OperationRefused(f"A batch takes at most {settings.BULK_MAX_DEVICES} devices.", Why.INVALID)
    limit = _time_limit_seconds(kind, time_limit_minutes, devices[0]) if kind in EXIT_KIND else None
    try:
        with transaction.atomic():
            batch = Batch.objects.create(requested_by=user, kind=kind, reason=reason.strip()[:500],
                                         time_limit_seconds=limit, confirmation=confirmation)
    except IntegrityError:
        text = "This Yes was already used; nothing new was requested."
        record(EVENTS[kind], "denied", actor=user, reason=text, detail={"batch": True})
        raise OperationRefused(text, Why.CONFLICT) from None
    record(EVENTS[kind], "requested", actor=user, reason=batch.reason,
           detail={"batch": batch.pk, "devices": len(devices), "kind": kind})
    for device in devices:
        item = BatchItem(batch=batch, device=device)
        try:
            item.operation = request_operation(user, device, kind, reason=batch.reason,
                                               time_limit_minutes=time_limit_minutes)
        except OperationRefused as refused:
            item.refused = refused.reason[:500]
        item.save()
    return batch
