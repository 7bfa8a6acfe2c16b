"""RQ jobs of the rescue workflows. They carry only an operation id; the row holds the truth.

No job sleeps: the submit job sends one request, and progress is read by a short poll job that
RQ's scheduler runs every OPERATION_POLL_SECONDS while anything is in flight; one poll reads all
in-flight devices of a kind with one API call.
"""

import logging
import random
from collections import defaultdict
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import policy
from devices import provider

from . import services
from .models import Operation

log = logging.getLogger(__name__)
State, Kind = Operation.State, Operation.Kind
POLL_LOCK = "rescueportal:workflows:poll-scheduled"


def _queue():
    return django_rq.get_queue("default")


def enqueue_submit(operation_id: int, delay: float = 0) -> None:
    """After the current transaction commits (django-rq's on_db_commit mode)."""
    if delay:
        transaction.on_commit(lambda: _queue().enqueue_in(timedelta(seconds=delay), submit_operation,
                                                          operation_id))
    else:
        _queue().enqueue(submit_operation, operation_id, job_timeout=120)


def schedule_poll(delay: float | None = None) -> bool:
    """Schedule the next poll unless one is already scheduled; True when this call scheduled it."""
    delay = settings.OPERATION_POLL_SECONDS if delay is None else delay
    connection = _queue().connection
    if not connection.set(POLL_LOCK, "1", nx=True, ex=max(5, int(delay * 5))):
        return False
    _queue().enqueue_in(timedelta(seconds=delay), poll_operations)
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
    lock = _queue().connection.lock(f"rescueportal:workflows:submit:{operation_id}", timeout=180,
                                    blocking=False)
    if not lock.acquire():
        return "another worker is submitting it"
    try:
        return _submit(operation_id)
    finally:
        lock.release()


def _submit(operation_id: int) -> str:
    op = Operation.objects.select_related("device", "requested_by").filter(pk=operation_id).first()
    if op is None or not op.is_active:
        return "nothing to do"
    if op.state not in (State.QUEUED, State.SUBMITTING):
        schedule_poll()
        return "already submitted"
    if services.expire_if_stuck(op):
        return "expired"
    # The requester may have lost the permission or the device since they asked.
    if not policy.can(op.requested_by, services.CAPABILITY[op.kind], op.device):
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
    services.start_submitting(op)
    try:
        transaction_id = _submit_to_provider(op, gateway)
    except provider.RateLimited as exc:
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
    services.submitted(op, transaction_id)
    schedule_poll()
    return "submitted"


def _retry_later(op: Operation, exc: provider.ProviderError) -> str:
    if services.expire_if_stuck(op):
        return "expired"
    delay = min(60.0, settings.SOFTLAYER_RETRY_BACKOFF_SECONDS * 2 ** min(op.submit_attempts, 7))
    delay *= 0.5 + random.random()
    log.info("Operation %s: %s; trying again in %.1fs", op.pk, exc.message, delay)
    _queue().enqueue_in(timedelta(seconds=delay), submit_operation, op.pk)
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
        try:
            remote = provider.progress(gateway, kind, [op.device.provider_id for op in ops])
        except provider.ProviderError as exc:
            log.warning("Progress poll for %s failed: %s", kind, exc.message)
            for op in ops:
                services.expire_if_stuck(op)
            continue
        for op in ops:
            if not services.expire_if_stuck(op):  # a transaction that never ends must not hold forever
                services.apply_progress(op, remote.get(op.device.provider_id))
    still = Operation.objects.filter(state__in=Operation.IN_FLIGHT_STATES).exists()
    if still:
        schedule_poll()
    return {"operations": len(in_flight), "api_calls": gateway.calls, "still_in_flight": still}


def reconcile() -> dict:
    """Resume active operations with no live job (worker killed, Redis flushed, crash before enqueue).

    Operations touched in the last 30 seconds are left to the job that is handling them."""
    quiet_since = timezone.now() - timedelta(seconds=30)
    queued = Operation.objects.filter(state__in=(State.QUEUED, State.SUBMITTING), updated_at__lt=quiet_since)
    for op in queued:
        enqueue_submit(op.pk)
    if Operation.objects.filter(state__in=Operation.IN_FLIGHT_STATES).exists():
        _queue().connection.delete(POLL_LOCK)
        schedule_poll(0.1)
    return {"resubmitted": len(queued)}


