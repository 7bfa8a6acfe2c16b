"""RQ jobs of the rescue workflows. They carry only an operation id; the row holds the truth.

No job sleeps: the submit job sends one request, and progress is read by a short poll job that
RQ's scheduler runs every OPERATION_POLL_SECONDS while anything is in flight; one poll reads all
in-flight devices of a kind with one API call.
"""

import logging
import random
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from accounts import policy
from devices import provider
from devices import services as inventory

from . import services
from .failpoints import crash_point
from .locks import SubmitLock
from .models import Operation
from .queue import RETRY, _queue, poll_queue
from .queue import submit_job as _enqueue_submit_job

log = logging.getLogger(__name__)
State, Kind = Operation.State, Operation.Kind
POLL_LOCK = "rescueportal:workflows:poll-scheduled"


def _lock_ttl() -> int:
    """Longer than a provider call can last, so a live holder never loses the lock mid-call."""
    return int(settings.SOFTLAYER_TIMEOUT * 2) + 10


def schedule_poll(delay: float | None = None) -> bool:
    """Schedule the next poll unless one is already scheduled; True when this call scheduled it.

    A delay of 0 enqueues it at once, without RQ's scheduler (which may be what was lost)."""
    delay = settings.OPERATION_POLL_SECONDS if delay is None else delay
    connection = _queue().connection
    if not connection.set(POLL_LOCK, "1", nx=True, ex=max(5, int(max(delay, settings.OPERATION_POLL_SECONDS) * 5))):
        return False
    if delay > 0:
        poll_queue().enqueue_in(timedelta(seconds=delay), poll_operations, retry=RETRY)
    else:
        poll_queue().enqueue(poll_operations, retry=RETRY)
    return True


def _submit_to_provider(op: Operation, gateway: provider.Gateway) -> int | None:
    device = op.device
    if op.kind == Kind.RESCUE:
        provider.rescue(gateway, device.kind, device.provider_id)
    elif op.kind == Kind.BOOT_IMAGE:
        return int(provider.mount_iso(gateway, device.provider_id, op.iso_image_id).get("id") or 0) or None
    elif op.kind == Kind.UNLOAD_IMAGE:
        return int(provider.unmount_iso(gateway, device.provider_id).get("id") or 0) or None
    else:
        provider.reboot(gateway, device.kind, device.provider_id)
    return None


def submit_operation(operation_id: int) -> str:
    """Submit once: a per-operation lock keeps two workers from sending the same request."""
    lock = SubmitLock(_queue().connection, operation_id, _lock_ttl())
    if not lock.acquire():
        # Another live worker has it. Look again after its lock would have expired, in case it dies.
        _enqueue_submit_job(operation_id, delay=_lock_ttl())
        return "another worker is submitting it"
    try:
        return _submit(operation_id, lock)
    finally:
        lock.release()


def _submit(operation_id: int, lock: SubmitLock) -> str:
    op = Operation.objects.select_related("device", "requested_by").filter(pk=operation_id).first()
    if op is None or not op.is_active:
        return "nothing to do"
    if op.state not in (State.QUEUED, State.SUBMITTING):
        schedule_poll()
        return "already submitted"
    if services.expire_if_stuck(op):
        return "expired"
    # The requester may have lost the permission or the device since they asked (the portal's own
    # exit at a time limit needs none: it ends what they started).
    if not op.automatic and not policy.can(op.requested_by, services.CAPABILITY[op.kind], op.device):
        services.fail(op, "Refused: the requester no longer has permission for this device.", outcome="denied")
        return "denied"
    gateway = provider.Gateway()
    if op.state == State.SUBMITTING:
        # A previous attempt may have reached SoftLayer: look before sending again.
        try:
            remote = provider.progress(gateway, op.device.kind, [op.device.provider_id]).get(op.device.provider_id)
        except provider.ProviderError as exc:
            return _retry_later(op, exc)
        if remote and services.provider_took_it(op, remote):
            services.submitted(op)
            schedule_poll()
            return "found already submitted"
        if _may_still_take_effect(op):
            return _wait_for_the_lost_answer(op)
    if not lock.refresh():
        return "another worker took over"  # it reads the device's state before it submits
    crash_point("before_submit")
    services.start_submitting(op)
    crash_point("after_submitting_recorded")
    try:
        transaction_id = _submit_to_provider(op, gateway)
    except provider.RateLimited as exc:
        services.submit_refused(op)  # answered: nothing was done, so it may be sent again
        return _retry_later(op, exc)
    except provider.ProviderUnavailable as exc:
        return _retry_later(op, exc)  # it may have been done: the next attempt looks first
    except provider.DeviceBusy:
        services.fail(op, "SoftLayer is already running a transaction on this device. Wait until it has "
                          "finished (see the device page), then try again.")
        return "busy"
    except provider.DeviceNotFound:
        services.fail(op, "SoftLayer does not know this device any more, or the portal's API user may not "
                          "see it. Sync the inventory, or check the API user's device access.")
        return "not found"
    except provider.ProviderError as exc:
        services.fail(op, exc.message)
        return "refused"
    crash_point("after_provider_accepted")
    services.submitted(op, transaction_id)
    _first_look(op, gateway)
    schedule_poll()
    return "submitted"


def _first_look(op: Operation, gateway: provider.Gateway) -> None:
    """Read the device once right after SoftLayer took the request, so the first status the portal
    keeps is the transaction's first (powering down): any later one means it boots. A failed read
    is left to the next poll."""
    seen_at = timezone.now()
    try:
        remote = provider.progress_of_one(gateway, op.device.kind, op.device.provider_id)
    except provider.ProviderError:
        return
    services.apply_progress(op, remote, seen_at)


def _may_still_take_effect(op: Operation) -> bool:
    """A submit whose answer was lost can still be carried out by SoftLayer for a while."""
    settle = timedelta(seconds=settings.SOFTLAYER_SUBMIT_SETTLE_SECONDS)
    return op.unanswered_submit_at is not None and timezone.now() < op.unanswered_submit_at + settle


def _wait_for_the_lost_answer(op: Operation) -> str:
    """Read again soon instead of sending again: SoftLayer has no idempotency keys, so a second
    send while the first may still take effect could start a second transaction."""
    if services.expire_if_stuck(op):
        return "expired"
    settle = settings.SOFTLAYER_SUBMIT_SETTLE_SECONDS
    left = (op.unanswered_submit_at + timedelta(seconds=settle) - timezone.now()).total_seconds()
    services.note_provider_problem(op, f"SoftLayer's answer to the request was lost. The portal is checking whether "
                                       f"it took effect before sending it again (within {settle:.0f} s).")
    _enqueue_submit_job(op.pk, delay=min(max(1.0, left + 0.1), max(1.0, settings.OPERATION_POLL_SECONDS * 2)))
    return "waiting for the lost answer"


def _retry_later(op: Operation, exc: provider.ProviderError) -> str:
    if services.expire_if_stuck(op):
        return "expired"
    delay = min(60.0, settings.SOFTLAYER_RETRY_BACKOFF_SECONDS * 2 ** min(op.submit_attempts, 7))
    delay *= 0.5 + random.random()
    log.info("Operation %s: %s; trying again in %.1fs", op.pk, exc.message, delay)
    services.note_provider_problem(op, exc.message)
    _enqueue_submit_job(op.pk, delay=delay)
    return "retry"


def poll_operations() -> dict:
    """One tick: one API call per device kind for every operation in flight."""
    connection = _queue().connection
    connection.delete(POLL_LOCK)
    in_flight = list(Operation.objects.filter(state__in=Operation.IN_FLIGHT_STATES).select_related(
        "device", "requested_by"))
    by_kind: dict[str, list[Operation]] = defaultdict(list)
    for op in in_flight:
        by_kind[op.device.kind].append(op)
    gateway = provider.Gateway()
    for kind, ops in by_kind.items():
        seen_at = timezone.now()
        try:
            remote = provider.progress(gateway, kind, [op.device.provider_id for op in ops])
        except provider.ProviderError as exc:
            log.warning("Progress poll for %s failed: %s", kind, exc.message)
            for op in ops:
                if not services.expire_if_stuck(op):
                    services.note_provider_problem(op, exc.message)
            continue
        crash_point("during_poll")
        unchanged: list[tuple[int, str]] = []
        for op in ops:
            if services.expire_if_stuck(op):  # a transaction that never ends must not hold forever
                continue
            row = remote.get(op.device.provider_id)
            if row is None:
                _look_directly(op, gateway)
            else:
                services.apply_progress(op, row, seen_at, unchanged=unchanged)
        inventory.report_observations(seen_at, unchanged)  # the looks that changed no operation, in bulk
    still = Operation.objects.filter(state__in=Operation.IN_FLIGHT_STATES).exists()
    if still:
        schedule_poll()
    return {"operations": len(in_flight), "api_calls": gateway.calls, "still_in_flight": still}


def _look_directly(op: Operation, gateway: provider.Gateway) -> None:
    """A device missing from the poll's list is read by id: only SoftLayer's own "not found" ends
    the operation as gone; any other answer is progress, or a problem to wait out."""
    seen_at = timezone.now()
    try:
        remote = provider.progress_of_one(gateway, op.device.kind, op.device.provider_id)
    except provider.DeviceNotFound:
        services.device_gone(op)
        return
    except provider.ProviderError as exc:
        services.note_provider_problem(op, exc.message)
        return
    services.apply_progress(op, remote, seen_at)


def check_sessions() -> dict:
    """Reminders and exits of rescue sessions that are due, and operations waiting on SoftLayer for
    long (rescueportal.cron, every
    RESCUE_SESSION_CHECK_SECONDS). One indexed query when nothing is due. Each step is a
    compare-and-set, so two checks at once, or a check after a lost one, do each thing once."""
    now = timezone.now()
    horizon = now + timedelta(minutes=settings.RESCUE_REMINDER_MINUTES)
    due = list(Operation.objects.filter(state__in=services.SESSION_STATES, ends_at__lte=horizon).select_related(
        "device", "requested_by"))
    reminded = exits = 0
    for op in due:
        if op.reminded_at is None and services.remind_at(op) <= now < op.ends_at:
            reminded += services.remind(op)
        if op.ends_at <= now and services.exit_at_time_limit(op):
            exits += 1
    slow = Operation.objects.filter(state__in=Operation.ACTIVE_STATES, slow_notified_at__isnull=True,
                                    created_at__lte=now - timedelta(minutes=settings.OPERATION_SLOW_MINUTES))
    waiting = sum(services.note_long_wait(op) for op in slow)
    return {"sessions_due": len(due), "reminded": reminded, "exits_requested": exits, "long_waits": waiting}


def reconcile(quiet_seconds: float | None = None) -> dict:
    """Resume active operations with no live job (worker killed, Redis flushed, crash before enqueue).

    Runs every minute (rescueportal.cron) and when a worker starts (workflows.worker). Operations
    touched in the last RECONCILE_QUIET_SECONDS are left to the job that is handling them; a
    second job for one operation is harmless anyway (the lock and the row's state see to it).
    """
    quiet = settings.RECONCILE_QUIET_SECONDS if quiet_seconds is None else quiet_seconds
    quiet_since = timezone.now() - timedelta(seconds=quiet)
    queued = list(Operation.objects.filter(state__in=(State.QUEUED, State.SUBMITTING),
                                           updated_at__lte=quiet_since).values_list("pk", flat=True))
    for pk in queued:
        _enqueue_submit_job(pk)
    polling = Operation.objects.filter(state__in=Operation.IN_FLIGHT_STATES).exists()
    if polling:  # a poll now, even if the lock says one is scheduled: that one may have been lost
        _queue().connection.delete(POLL_LOCK)
        schedule_poll(0)
    return {"resubmitted": len(queued), "polling": polling}


def reconcile_at_start() -> None:
    """A worker's first act: resume whatever a dead worker or a lost Redis left behind."""
    try:
        result = reconcile(quiet_seconds=0)
        log.info("Reconciled at worker start: %s", result)
    except (DatabaseError, OSError) as exc:  # the periodic run will do it
        log.warning("Could not reconcile at worker start: %s", exc)
    finally:
        connections.close_all()  # a forking worker must not share its connection with its children


