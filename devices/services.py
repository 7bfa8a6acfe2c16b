"""Writes to the device inventory: the only module that writes Device rows.

The sync mirrors the account. The workflows report what their operations did and saw through
`report_status` and `report_observation`. Status, power and the transaction's name are each
stamped with the start of the look behind them (`observed_at`), so the sync and the polls never
overwrite a newer look with an older one.
"""

import ipaddress
import logging

import django_rq
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from redis.exceptions import RedisError

from accounts import policy
from accounts.capabilities import REMOTE_MANAGEMENT, SERVER_RELOAD
from accounts.refusals import Refused, Why
from audit.services import record

from .models import Device, InventorySync
from .provider import BARE_METAL, VIRTUAL, Gateway, ProviderError

log = logging.getLogger(__name__)

# What the sync copies as it finds it; the volatile fields below it writes only when its look is the newest.
SYNCED_FIELDS = [
    "hostname", "domain", "fqdn", "datacenter", "datacenter_long_name", "public_ip", "private_ip",
    "os_name", "os_reference_code", "os_family", "memory_mb", "cpus", "provisioned_at",
]
VOLATILE_FIELDS = ["provider_transaction", "power_state"]


def _ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _os(remote: dict) -> tuple[str, str, str]:
    description = ((remote.get("operatingSystem") or {}).get("softwareLicense") or {}).get("softwareDescription") or {}
    reference = description.get("referenceCode") or remote.get("operatingSystemReferenceCode") or ""
    name = " ".join(part for part in (description.get("name"), description.get("version")) if part)
    family = (
        Device.OsFamily.WINDOWS if reference.upper().startswith("WIN")
        else Device.OsFamily.LINUX if reference else Device.OsFamily.OTHER
    )
    return name, reference, family


def device_fields(kind: str, remote: dict) -> dict:
    """The Device fields for a SoftLayer guest or hardware dict (as the gateway's masks return)."""
    os_name, os_reference, os_family = _os(remote)
    datacenter = remote.get("datacenter") or {}
    hostname, domain = remote.get("hostname", ""), remote.get("domain", "")
    fields = {
        "hostname": hostname,
        "domain": domain,
        "fqdn": remote.get("fullyQualifiedDomainName") or ".".join(p for p in (hostname, domain) if p),
        "datacenter": datacenter.get("name", ""),
        "datacenter_long_name": datacenter.get("longName", ""),
        "public_ip": _ip(remote.get("primaryIpAddress")),
        "private_ip": _ip(remote.get("primaryBackendIpAddress")),
        "os_name": os_name,
        "os_reference_code": os_reference,
        "os_family": os_family,
        "provisioned_at": parse_datetime(remote["provisionDate"]) if remote.get("provisionDate") else None,
        "provider_transaction": (
            ((remote.get("activeTransaction") or {}).get("transactionStatus") or {}).get("friendlyName", "")
        ),
    }
    if kind == VIRTUAL:
        fields["memory_mb"] = int(remote.get("maxMemory") or 0)
        fields["cpus"] = int(remote.get("maxCpu") or 0)
        power = (remote.get("powerState") or {}).get("keyName")
        if power:
            fields["power_state"] = Device.Power.ON if power == "RUNNING" else Device.Power.OFF
    else:
        fields["memory_mb"] = int(remote.get("memoryCapacity") or 0) * 1024
        fields["cpus"] = int(remote.get("processorPhysicalCoreAmount") or 0)
    return fields


def _differs(device: Device, fields: dict) -> bool:
    return any(getattr(device, name) != value for name, value in fields.items())


SYNC_LOCK_ID = 7_401_001  # any constant: the PostgreSQL advisory lock of the sync's write phase


def _one_sync_writes_at_a_time() -> None:
    """Two syncs at once (the cron and "Sync now") would both create the same new devices; the
    second waits here and then sees the first's rows. SQLite serializes write transactions already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SYNC_LOCK_ID])


def _both_lists(gateway: Gateway) -> list[tuple[str, list[dict]]]:
    """Virtual servers and bare metal read at the same time (each paged concurrently too)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="softlayer-list") as pool:
        lists = pool.map(lambda kind: (kind, list(gateway.iter_devices(kind))), (VIRTUAL, BARE_METAL))
        return list(lists)


def sync_devices(gateway: Gateway | None = None) -> InventorySync:
    """Mirror the account's devices: create new ones, update changed ones, mark vanished ones.

    Both lists are read in full before anything is written, so a provider fault half-way
    changes nothing (and never marks a device vanished because a page was missing).
    Vanished devices keep their row and history; one that comes back is restored.
    """
    gateway = gateway or Gateway()
    run = InventorySync(started_at=timezone.now())
    try:
        remote = {(kind, int(item["id"])): device_fields(kind, item)
                  for kind, items in _both_lists(gateway) for item in items}
    except ProviderError as exc:
        run.api_calls, run.error, run.finished_at = gateway.calls, exc.message, timezone.now()
        run.save()
        log.warning("Inventory sync failed after %s API calls: %s", gateway.calls, exc.message)
        raise
    looked_at, now = run.started_at, timezone.now()  # the lists were read after `looked_at`
    with transaction.atomic():
        _one_sync_writes_at_a_time()
        existing = {(d.kind, d.provider_id): d for d in Device.objects.all()}
        to_create, to_update, fresher, restored = [], [], [], 0
        for key, fields in remote.items():
            volatile = {name: fields.pop(name) for name in VOLATILE_FIELDS if name in fields}
            device = existing.get(key)
            if device is None:
                to_create.append(Device(kind=key[0], provider_id=key[1], last_synced_at=now, observed_at=looked_at,
                                        **fields, **volatile))
                continue
            if device.vanished_at is not None:
                device.vanished_at = None
                restored += 1
                to_update.append(device)
            elif _differs(device, fields):
                to_update.append(device)
            for name, value in fields.items():
                setattr(device, name, value)
            if changes := _volatile_changes(device, volatile, looked_at):
                fresher.append((device.pk, changes))
        Device.objects.bulk_create(to_create, batch_size=500)
        Device.objects.bulk_update(to_update, [*SYNCED_FIELDS, "vanished_at"], batch_size=500)
        for pk, changes in fresher:
            report_observation(pk, looked_at, **changes)
        gone = [d.pk for key, d in existing.items() if key not in remote and d.vanished_at is None]
        for start in range(0, len(gone), 500):
            Device.objects.filter(pk__in=gone[start:start + 500]).update(vanished_at=now)
        Device.objects.filter(vanished_at__isnull=True).update(last_synced_at=now)
        run.created, run.updated = len(to_create), len({d.pk for d in to_update} | {pk for pk, _ in fresher}) - restored
        run.vanished, run.restored = len(gone), restored
        run.total, run.api_calls, run.finished_at = len(remote), gateway.calls, timezone.now()
        run.save()
    log.info("Inventory sync: %s devices, %s new, %s changed, %s vanished, %s API calls",
             run.total, run.created, run.updated, run.vanished, run.api_calls)
    return run


def _volatile_changes(device: Device, seen: dict, looked_at) -> dict:
    """What a sync's look changes in status, power and transaction; nothing if a newer look was recorded.

    A device marked Failed that the provider shows running with no transaction is Normal again:
    a failed operation does not brand a running server.
    """
    if device.observed_at is not None and device.observed_at > looked_at:
        return {}
    truth = dict(seen)
    idle = not truth.get("provider_transaction") and truth.get("power_state") != Device.Power.OFF
    if device.status == Device.Status.FAILED and idle:
        truth["status"] = Device.Status.NORMAL
    return {name: value for name, value in truth.items() if getattr(device, name) != value}


def report_observation(device_id: int, seen_at, **fields) -> bool:
    """A look at one device (a sync, a poll, a live read) that began at `seen_at`: status, power and
    transaction are written unless a newer look was already recorded. True when written."""
    newer_recorded = Q(observed_at__gt=seen_at)
    return Device.objects.filter(pk=device_id).exclude(newer_recorded).update(observed_at=seen_at, **fields) > 0


def report_observations(seen_at, transactions: list[tuple[int, str]]) -> None:
    """Many looks begun at `seen_at` (a poll tick): each device's transaction status, one UPDATE per
    distinct status, with the same rule as `report_observation`."""
    by_status: dict[str, list[int]] = {}
    for device_id, status in transactions:
        by_status.setdefault(status, []).append(device_id)
    for status, ids in by_status.items():
        Device.objects.filter(pk__in=ids).exclude(observed_at__gt=seen_at).update(
            observed_at=seen_at, provider_transaction=status)


def report_status(device_id: int, status: str, **fields) -> None:
    """An operation's news about its device (requested, done, failed): the newest fact there is.
    A device out of rescue has no session end."""
    if status not in (Device.Status.IN_RESCUE, Device.Status.IMAGE_MOUNTED):
        fields["session_ends_at"] = None
    Device.objects.filter(pk=device_id).update(status=status, observed_at=timezone.now(), **fields)


def report_session_end(device_id: int, ends_at) -> None:
    """A rescue session's time limit moved (extended): the Device List shows the time left."""
    Device.objects.filter(pk=device_id).update(session_ends_at=ends_at)


def refresh_power_state(device: Device, gateway: Gateway | None = None) -> Device:
    """Read the device's power state live (while a person waits for the page) and keep it; raises ProviderError."""
    seen_at = timezone.now()
    state = (gateway or Gateway(interactive=True)).power_state(device.kind, device.provider_id)
    if device.power_state != state and report_observation(device.pk, seen_at, power_state=state):
        device.power_state = state
    return device


class SyncRefused(Refused):
    pass


# Who may make the portal list the whole account on demand: the owner and whoever may act on devices.
SYNC_CAPABILITIES = (SERVER_RELOAD, REMOTE_MANAGEMENT)
SYNC_THROTTLE_KEY = "rescueportal:devices:sync-requested"


def may_sync_now(user) -> bool:
    return any(policy.can(user, capability) for capability in SYNC_CAPABILITIES)


def request_sync(user) -> None:
    """"Sync now": refused (and audited) without an action capability; one per
    INVENTORY_SYNC_MIN_INTERVAL_SECONDS for the whole account, whoever asks."""
    from .jobs import enqueue_sync

    if not may_sync_now(user):
        reason = "Only the account owner and users who may act on devices can sync the inventory."
        record("inventory.sync", "denied", reason=reason)
        raise SyncRefused(reason, Why.NOT_ALLOWED)
    interval = settings.INVENTORY_SYNC_MIN_INTERVAL_SECONDS
    try:
        redis = django_rq.get_connection("default")
        if not redis.set(SYNC_THROTTLE_KEY, user.get_username(), nx=True, ex=interval):
            wait = max(1, redis.ttl(SYNC_THROTTLE_KEY))
            raise SyncRefused(f"An inventory sync was started less than {interval} seconds ago; it is running or "
                              f"done. Try again in {wait} seconds if a device is still missing.", Why.TOO_SOON)
        enqueue_sync()
    except RedisError:
        raise SyncRefused("The portal's job queue cannot be reached just now, so nothing was started. The inventory "
                          "is synced by itself every few minutes once it is back.", Why.UNAVAILABLE) from None
    record("inventory.sync", "requested")
