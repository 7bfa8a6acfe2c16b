"""Writes of the rescue workflows: create an operation, move it through its states, audit each step.

The Operation row is the source of truth; jobs (workflows.jobs) call these functions.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts import policy
from accounts.capabilities import REMOTE_MANAGEMENT, SERVER_RELOAD
from audit.services import record
from devices.models import Device

from .models import Operation

log = logging.getLogger(__name__)

State, Kind = Operation.State, Operation.Kind
EVENTS = {Kind.RESCUE: "device.rescue", Kind.BOOT_IMAGE: "device.boot_image",
          Kind.UNLOAD_IMAGE: "device.unload_image", Kind.RESTART: "device.restart"}
CAPABILITY = {Kind.RESCUE: SERVER_RELOAD, Kind.BOOT_IMAGE: SERVER_RELOAD, Kind.UNLOAD_IMAGE: SERVER_RELOAD,
              Kind.RESTART: REMOTE_MANAGEMENT}
# What the device is when each kind of operation has done its work.
DONE_STATE = {Kind.RESCUE: State.IN_RESCUE, Kind.BOOT_IMAGE: State.IMAGE_MOUNTED, Kind.UNLOAD_IMAGE: State.NORMAL,
              Kind.RESTART: State.NORMAL}
DEVICE_STATUS = {State.IN_RESCUE: Device.Status.IN_RESCUE, State.IMAGE_MOUNTED: Device.Status.IMAGE_MOUNTED,
                 State.NORMAL: Device.Status.NORMAL}


class OperationRefused(Exception):
    def __init__(self, reason: str, operation: Operation | None = None, status: int = 403):
        super().__init__(reason)
        self.reason, self.operation, self.status = reason, operation, status


def _audit(op: Operation, outcome: str, request=None, reason: str = "", **detail) -> None:
    record(EVENTS[op.kind], outcome, request=request, actor=op.requested_by if request is None else None,
           device=op.device, operation_id=op.pk, reason=reason or op.reason,
           detail={"state": op.state, "kind": op.kind, **({"image": op.iso_image_name} if op.iso_image_name else {}),
                   **detail})


def _refuse_replay(event: str, confirmation: str, device: Device, request) -> None:
    used = Operation.objects.filter(confirmation=confirmation).first() if confirmation else None
    if used:
        text = "This Yes was already used; nothing new was requested."
        record(event, "denied", request=request, device=device, operation_id=used.pk, reason=text)
        raise OperationRefused(text, used, status=409)


def request_operation(user, device: Device, kind: str, *, reason: str = "", iso_image: dict | None = None,
                      rescue_os: str = "", confirmation: str = "", request=None) -> Operation:
    """Check, create the row, audit, and enqueue the submit job when the transaction commits.

    `confirmation` is the nonce of the Yes that asked (web requests): each may be used once."""
    from .jobs import enqueue_submit

    event = EVENTS[kind]
    if not policy.can(user, CAPABILITY[kind], device):
        reason_text = "You do not have permission to do this on this device."
        record(event, "denied", request=request, device=device, reason=reason_text)
        raise OperationRefused(reason_text)
    _refuse_replay(event, confirmation, device, request)
    if device.vanished_at is not None:
        raise OperationRefused("This device is no longer in the SoftLayer account.", status=409)
    now = timezone.now()
    op = Operation(device=device, requested_by=user, kind=kind, reason=reason.strip()[:500], rescue_os=rescue_os,
                   confirmation=confirmation or None,
                   iso_image_id=(iso_image or {}).get("id"), iso_image_name=(iso_image or {}).get("name", ""),
                   deadline_at=now + timedelta(minutes=settings.OPERATION_DEADLINE_MINUTES))
    try:
        with transaction.atomic():
            op.save()
            if kind in (Kind.RESCUE, Kind.BOOT_IMAGE):
                Device.objects.filter(pk=device.pk).update(status=Device.Status.RESCUE_IN_PROGRESS)
            _audit(op, "requested", request=request)
            enqueue_submit(op.pk)
    except IntegrityError:
        _refuse_replay(event, confirmation, device, request)  # the same Yes twice at the same moment
        running = Operation.objects.filter(device=device, state__in=Operation.ACTIVE_STATES).first()
        raise OperationRefused("An operation is already in progress on this device.", running, status=409) from None
    return op


def _save(op: Operation, *fields: str) -> None:
    op.save(update_fields=[*fields, "updated_at"])


def start_submitting(op: Operation) -> None:
    """Recorded before the provider is called, so a retry knows a submit may have happened."""
    op.state, op.submit_started_at = State.SUBMITTING, op.submit_started_at or timezone.now()
    op.submit_attempts += 1
    with transaction.atomic():  # the state and its audit row together, or neither
        _save(op, "state", "submit_started_at", "submit_attempts")
        if op.submit_attempts == 1:
            _audit(op, "requested", step="about to submit")


def note_provider_problem(op: Operation, message: str) -> None:
    """Shown on the operation's page while the portal waits for SoftLayer; not a failure (the
    portal retries by itself, so the gateway's advice to try again is left out)."""
    message = message.removesuffix(" Try again in a few minutes.")[:500]
    if op.provider_problem != message:
        op.provider_problem = message
        _save(op, "provider_problem")


def submitted(op: Operation, transaction_id: int | None = None) -> None:
    op.state, op.submitted_at, op.provider_problem = State.POWERING_DOWN, timezone.now(), ""
    op.provider_transaction_id = transaction_id or op.provider_transaction_id
    with transaction.atomic():
        _save(op, "state", "submitted_at", "provider_transaction_id", "provider_problem")
        _audit(op, "requested", step="accepted by SoftLayer")


def fail(op: Operation, message: str, outcome: str = "failed") -> None:
    """The operation ends; the device keeps the status it had before (Failed for a failed rescue)."""
    with transaction.atomic():
        op.state, op.error, op.finished_at = State.FAILED, message, timezone.now()
        _save(op, "state", "error", "finished_at")
        if op.kind in (Kind.RESCUE, Kind.BOOT_IMAGE):
            Device.objects.filter(pk=op.device_id).update(status=Device.Status.FAILED, provider_transaction="")
        _audit(op, outcome, reason=message)
    log.warning("Operation %s failed: %s", op.pk, message)


def finish(op: Operation) -> None:
    done = DONE_STATE[op.kind]
    with transaction.atomic():
        op.state, op.finished_at, op.provider_status = done, timezone.now(), ""
        _save(op, "state", "finished_at", "provider_status")
        Device.objects.filter(pk=op.device_id).update(status=DEVICE_STATUS[done], provider_transaction="",
                                                      power_state=Device.Power.ON)
        _audit(op, "succeeded")


def _newer_than(stamp: str | None, moment) -> bool:
    parsed = parse_datetime(stamp) if stamp else None
    return bool(parsed and moment and parsed >= moment - timedelta(seconds=5))


def provider_took_it(op: Operation, remote: dict) -> bool:
    """Did the provider accept a submit whose answer we never got? (Its transaction shows.)"""
    active = remote.get("activeTransaction")
    last = remote.get("lastTransaction") or {}
    return bool(active and _newer_than(active.get("createDate"), op.submit_started_at)) or _newer_than(
        last.get("createDate"), op.submit_started_at)


def apply_progress(op: Operation, remote: dict | None) -> None:
    """One poll's view of the device: phase, the provider's status and estimate, or completion."""
    if remote is None:
        return fail(op, "SoftLayer no longer knows this device (it may have been cancelled).")
    active = remote.get("activeTransaction")
    if active and (op.provider_transaction_id in (None, active.get("id"))):
        status = (active.get("transactionStatus") or {}).get("friendlyName", "")
        group = active.get("transactionGroup") or {}
        estimate = group.get("averageTimeToComplete")
        halted = (remote.get("powerState") or {}).get("keyName") == "HALTED"
        op.saw_transaction, op.provider_transaction_id, op.provider_problem = True, active.get("id"), ""
        if op.device.kind == Device.Kind.VIRTUAL:
            op.saw_power_off = op.saw_power_off or halted
            booting = op.saw_power_off and not halted
        else:  # bare metal shows no power state in a list: the transaction moving on means it boots
            booting = op.state == State.BOOTING or (bool(op.provider_status) and status != op.provider_status)
        new_state = State.BOOTING if booting else State.POWERING_DOWN
        changed = new_state != op.state
        op.state, op.provider_status = new_state, status or op.provider_status
        if estimate:
            op.provider_estimate_seconds = int(float(estimate) * 60)
        with transaction.atomic():
            _save(op, "state", "provider_status", "provider_estimate_seconds", "saw_transaction", "saw_power_off",
                  "provider_transaction_id", "provider_problem")
            Device.objects.filter(pk=op.device_id).update(provider_transaction=status)
            if changed:
                _audit(op, "requested", step=new_state)
        return None
    last = remote.get("lastTransaction") or {}
    done = op.saw_transaction or _newer_than(last.get("createDate"), op.submit_started_at) or (
        op.provider_transaction_id is not None and last.get("id") == op.provider_transaction_id)
    if done:
        return finish(op)
    if timezone.now() > op.deadline_at:
        return fail(op, "SoftLayer did not start the transaction in time. Check the device in the IBM Cloud "
                        "console, then try again.")
    return None


def expire_if_stuck(op: Operation) -> bool:
    if op.is_active and timezone.now() > op.deadline_at:
        fail(op, f"Still not finished after {settings.OPERATION_DEADLINE_MINUTES} minutes: the provider's "
                 "transaction seems stuck. Check the device in the IBM Cloud console or open a support case.")
        return True
    return False
