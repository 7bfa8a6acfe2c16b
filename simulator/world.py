"""The simulated account: its devices, their transactions, the rate limit and injected faults.

Everything the XML-RPC server answers comes from here, under one lock, so the server may run
threaded. Time is scaled: a transaction phase of D seconds lasts D * time_scale real seconds.
"""

import itertools
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import filters, masks
from .inventory import BARE_METAL, VIRTUAL, Inventory, make_device

RATE_LIMIT_PER_SECOND = 50

# Transaction phases: (name, friendlyName, averageDuration in seconds). Names are opaque to the
# portal, which shows friendlyName only (the real names are not public).
# The first phase of each powers the device down; the device runs again from the second on.
TRANSACTIONS = {
    "rescue": ("Rescue Layer", [
        ("RESCUE_POWER_OFF", "Powering down the server", 40.0),
        ("RESCUE_BOOT", "Booting the rescue kernel", 150.0),
        ("RESCUE_NETWORK", "Configuring network for rescue", 30.0),
    ]),
    "mount_iso": ("ISO Boot", [
        ("ISO_POWER_OFF", "Powering down the server", 30.0),
        ("ISO_ATTACH", "Attaching the ISO image", 20.0),
        ("ISO_BOOT", "Booting from the ISO image", 60.0),
    ]),
    "unmount_iso": ("ISO Unload", [
        ("ISO_UNLOAD_POWER_OFF", "Powering down the server", 30.0),
        ("ISO_DETACH", "Detaching the ISO image", 15.0),
        ("ISO_NORMAL_BOOT", "Booting the operating system", 60.0),
    ]),
    "reboot": ("Reboot", [
        ("REBOOT_POWER_OFF", "Power cycling the server", 15.0),
        ("REBOOT_BOOT", "Booting the operating system", 60.0),
    ]),
}
# What a device runs when each transaction completes.
OUTCOME = {"rescue": "rescue", "mount_iso": "image", "unmount_iso": "normal", "reboot": "normal"}

PUBLIC_ISO_IMAGES = [
    {"id": 5001, "name": "WindowsRescueStandalone.iso", "description": "Windows rescue environment (standalone)",
     "capacity": 0.52, "units": "GB"},
    {"id": 5002, "name": "CentOS-7-x86_64-Minimal-2009.iso", "description": "CentOS 7 minimal installer",
     "capacity": 0.97, "units": "GB"},
    {"id": 5003, "name": "ubuntu-22.04.4-live-server-amd64.iso", "description": "Ubuntu 22.04 LTS live server",
     "capacity": 1.96, "units": "GB"},
    {"id": 5004, "name": "SystemRescue-11.00-amd64.iso", "description": "SystemRescue toolkit",
     "capacity": 0.85, "units": "GB"},
    {"id": 5005, "name": "virtio-win-0.1.240.iso", "description": "VirtIO drivers for Windows",
     "capacity": 0.6, "units": "GB"},
]
for _image in PUBLIC_ISO_IMAGES:
    _image.update({"uuid": f"00000000-0000-4000-8000-{_image['id']:012d}", "typeId": 2,
                   "type": {"keyName": "ISO", "name": "ISO", "description": "ISO"}})


class SoftLayerFault(Exception):
    """Answered to the client as an XML-RPC fault with a string faultCode, as the real API does."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def not_found(object_id) -> SoftLayerFault:
    return SoftLayerFault("SoftLayer_Exception_ObjectNotFound", f"Unable to find object with id of '{object_id}'.")


ACCESS_DENIED = ("SoftLayer_Exception_Public", "Access Denied. ")
OUTSTANDING = ("SoftLayer_Exception_Public", "There is currently an outstanding transaction for this server.")
RATE_LIMITED = (
    "SoftLayer_Exception_WebService_RateLimitExceeded",
    "Rate limit of 50 requests for every 1 second(s) exceeded.",
)
INJECTABLE_FAULTS = {
    "not_found": ("SoftLayer_Exception_ObjectNotFound", "Unable to find object with id of '0'."),
    "access_denied": ACCESS_DENIED,
    "outstanding_transaction": OUTSTANDING,
    "rate_limit": RATE_LIMITED,
    "internal_error": ("SoftLayer_Exception_Public", "Internal Error"),
}
# Faults below the XML-RPC layer: an HTTP error status, a slow answer, a reset, a lost answer.
TRANSPORT_FAULTS = {"http_500", "http_503", "latency", "reset", "lost_response"}
# Faults in an answer's content: a list that leaves out its first row (an eventually consistent read).
CONTENT_FAULTS = {"drop_row"}


@dataclass
class FaultRule:
    fault: str
    method: str = "*"  # "SoftLayer_Service::method", "::method" or "*"
    count: int = 1  # how many matching calls it hits; 0 = until cleared
    seconds: float = 0.0  # for latency
    hits: int = 0

    def matches(self, service: str, method: str) -> bool:
        return self.method in ("*", f"{service}::{method}", f"::{method}")


@dataclass
class Transaction:
    id: int
    action: str  # a key of TRANSACTIONS
    started: float
    created: str
    disk_image_id: int | None = None

    @property
    def group(self) -> str:
        return TRANSACTIONS[self.action][0]

    @property
    def phases(self) -> list[tuple[str, str, float]]:
        return TRANSACTIONS[self.action][1]

    def as_struct(self, owner_key: str, owner_id: int, phase: int, into: float) -> dict:
        name, friendly, average = self.phases[phase]
        return {
            "id": self.id, "createDate": self.created, "elapsedSeconds": int(into), owner_key: owner_id,
            "transactionStatus": {"name": name, "friendlyName": friendly, "averageDuration": average},
            "transactionGroup": {"name": self.group,
                                 "averageTimeToComplete": round(sum(p[2] for p in self.phases) / 60, 2)},
        }


@dataclass
class World:
    inventory: Inventory
    username: str
    api_key: str
    time_scale: float = 1.0
    seed: int = 1
    latency: float = 0.025  # seconds per request: the real API is never instant
    lock: threading.RLock = field(default_factory=threading.RLock)
    calls: Counter = field(default_factory=Counter)
    started: Counter = field(default_factory=Counter)  # transactions begun, per "kind:id:action"
    peak_per_second: int = 0  # the most requests admitted in any one-second window
    rate_limited: int = 0  # requests refused by the rate limit
    fault_rules: list[FaultRule] = field(default_factory=list)
    _recent: deque = field(default_factory=deque)
    _transactions: dict[tuple[str, int], Transaction] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(900_000_001))
    _version: int = 0
    _list_cache: dict = field(default_factory=dict)

    # --- the request pipeline ---------------------------------------------------------------
    def stats(self) -> dict:
        with self.lock:
            calls = dict(self.calls)
            return {"calls": calls, "total": sum(calls.values()), "started": dict(self.started),
                    "peak_per_second": self.peak_per_second, "rate_limited": self.rate_limited}

    def reset_stats(self) -> None:
        with self.lock:
            self.calls.clear()
            self.started.clear()
            self.fault_rules.clear()
            self.peak_per_second = self.rate_limited = 0

    def authenticate(self, headers: dict) -> None:
        auth = headers.get("authenticate") or {}
        if auth.get("username") != self.username or auth.get("apiKey") != self.api_key:
            raise SoftLayerFault(*ACCESS_DENIED)

    def admit(self, now: float | None = None) -> None:
        """The real API's limit: 50 requests for every 1 second, per user."""
        now = time.monotonic() if now is None else now
        with self.lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= RATE_LIMIT_PER_SECOND:
                self.rate_limited += 1
                raise SoftLayerFault(*RATE_LIMITED)
            self._recent.append(now)
            self.peak_per_second = max(self.peak_per_second, len(self._recent))

    def count(self, service: str, method: str) -> None:
        with self.lock:
            self.calls[f"{service}::{method}"] += 1

    def take_fault(self, service: str, method: str) -> FaultRule | None:
        with self.lock:
            for rule in self.fault_rules:
                if rule.matches(service, method):
                    rule.hits += 1
                    if rule.count and rule.hits >= rule.count:
                        self.fault_rules.remove(rule)
                    return rule
        return None

    # --- devices --------------------------------------------------------------------------
    def table(self, kind: str) -> dict[int, dict]:
        return self.inventory.guests if kind == VIRTUAL else self.inventory.hardware

    def device(self, kind: str, object_id) -> dict:
        try:
            key = int(object_id)
        except (TypeError, ValueError):
            raise not_found(object_id) from None
        device = self.table(kind).get(key)
        if device is None:
            raise not_found(object_id)
        return device

    def view(self, kind: str, device: dict, mask) -> dict:
        return masks.apply(self._with_transaction(kind, device), masks.parse(mask))

    def list_devices(self, kind: str, object_filter: dict | None, mask, offset: int, limit: int | None):
        """One page and the total before paging (for the SoftLayer-Total-Items header)."""
        tree = masks.parse(mask)
        with self.lock:
            self._settle_all()
            cache_key = (kind, repr(object_filter))
            cached = self._list_cache.get(cache_key)
            if cached is None or cached[0] != self._version:
                items = sorted(self.table(kind).values(), key=lambda d: d["id"])
                cached = (self._version, filters.apply(items, object_filter))
                self._list_cache = {cache_key: cached}
            matched = cached[1]
            page = matched[offset: offset + limit] if limit else matched[offset:]
            return [masks.apply(self._with_transaction(kind, d), tree) for d in page], len(matched)

    def power_state(self, kind: str, device: dict):
        self._settle(kind, device)
        if kind == VIRTUAL:
            return dict(device["powerState"])
        return device["_power"]

    # --- transactions ---------------------------------------------------------------------
    def start(self, kind: str, object_id, action: str, disk_image_id: int | None = None) -> dict:
        """Begin a transaction on a device; refused while another runs. Returns its struct."""
        with self.lock:
            device = self.device(kind, object_id)
            self._settle(kind, device)
            if (kind, device["id"]) in self._transactions:
                raise SoftLayerFault(*OUTSTANDING)
            windows = device["operatingSystemReferenceCode"].startswith("WIN")
            if action == "rescue" and kind == VIRTUAL and windows:
                raise SoftLayerFault(
                    "SoftLayer_Exception_Public", "Rescue layer is not available for Windows virtual guests.")
            if action == "mount_iso" and disk_image_id not in {i["id"] for i in PUBLIC_ISO_IMAGES}:
                raise not_found(disk_image_id)
            if action == "unmount_iso" and device.get("_mode") != "image":
                raise SoftLayerFault("SoftLayer_Exception_Public", "There is no ISO image mounted on this guest.")
            txn = Transaction(id=next(self._ids), action=action, started=time.monotonic(),
                              created=datetime.now(UTC).isoformat(), disk_image_id=disk_image_id)
            self._transactions[(kind, device["id"])] = txn
            self.started[f"{kind}:{device['id']}:{action}"] += 1
            self._touch()
            owner = "guestId" if kind == VIRTUAL else "hardwareId"
            return txn.as_struct(owner, device["id"], 0, 0)

    def reboot_from_os(self, kind: str, object_id) -> None:
        """Someone typed `reboot` inside the rescue OS: the device comes back to its own system."""
        with self.lock:
            device = self.device(kind, object_id)
            if device.get("_mode") == "rescue":
                device["_mode"] = "normal"
                self._touch()

    def _phase(self, txn: Transaction) -> tuple[int, float] | None:
        """(phase index, simulated seconds into it), or None when the transaction is done."""
        elapsed = (time.monotonic() - txn.started) / max(self.time_scale, 1e-9)
        for index, (_n, _f, duration) in enumerate(txn.phases):
            if elapsed < duration:
                return index, elapsed
            elapsed -= duration
        return None

    def _set_power(self, kind: str, device: dict, on: bool) -> None:
        if kind == VIRTUAL:
            state = {"keyName": "RUNNING", "name": "Running"} if on else {"keyName": "HALTED", "name": "Halted"}
            device["powerState"], device["lastKnownPowerState"] = state, dict(state)
        else:
            device["_power"] = "on" if on else "off"

    def _settle(self, kind: str, device: dict) -> None:
        """Bring a device up to date with the clock: power follows the phase; completion applies."""
        txn = self._transactions.get((kind, device["id"]))
        if txn is None:
            return
        phase = self._phase(txn)
        if phase is not None:
            self._set_power(kind, device, on=phase[0] > 0)
            return
        del self._transactions[(kind, device["id"])]
        device["_mode"] = OUTCOME[txn.action]
        self._set_power(kind, device, on=True)
        if kind == VIRTUAL:
            cd = next((b for b in device.get("blockDevices", []) if b.get("mountType") == "CD"), None)
            if cd is not None and txn.action == "mount_iso":
                image = next(i for i in PUBLIC_ISO_IMAGES if i["id"] == txn.disk_image_id)
                cd["diskImageId"], cd["diskImage"] = image["id"], {"id": image["id"], "name": image["name"]}
            elif cd is not None and txn.action == "unmount_iso":
                cd.pop("diskImageId", None)
                cd.pop("diskImage", None)
        device["lastTransaction"] = {"id": txn.id, "createDate": txn.created, "modifyDate": txn.created,
                                     "transactionStatus": {"name": "COMPLETE", "friendlyName": "Complete"},
                                     "transactionGroup": {"name": txn.group}}
        self._touch()

    def _settle_all(self) -> None:
        for kind, object_id in list(self._transactions):
            self._settle(kind, self.table(kind)[object_id])

    def _with_transaction(self, kind: str, device: dict) -> dict:
        self._settle(kind, device)
        txn = self._transactions.get((kind, device["id"]))
        if txn is None:
            return device
        index, into = self._phase(txn)
        owner = "guestId" if kind == VIRTUAL else "hardwareId"
        return {**device, "activeTransaction": txn.as_struct(owner, device["id"], index, into)}

    def iso_boot_image(self, device: dict) -> dict:
        cd = next((b for b in device.get("blockDevices", []) if b.get("mountType") == "CD"), {})
        return dict(cd.get("diskImage") or {})

    # --- control (tests and demos change the account from outside) -------------------------
    def _touch(self) -> None:
        self._version += 1

    def add_device(self, kind: str, family: str = "linux", small: bool = False) -> dict:
        with self.lock:
            table = self.table(kind)
            next_id = max(table, default=70_000_000 if kind == VIRTUAL else 1_500_000) + 1
            index = len(self.inventory.guests) + len(self.inventory.hardware)
            rng = random.Random(self.seed * 1_000_003 + next_id)
            device = make_device(rng, index, next_id, (kind, family, small))
            table[next_id] = device
            self._touch()
            return device

    def remove_device(self, kind: str, object_id) -> None:
        with self.lock:
            device = self.device(kind, object_id)
            del self.table(kind)[device["id"]]
            self._transactions.pop((kind, device["id"]), None)
            self._touch()

    def update_device(self, kind: str, object_id, changes: dict) -> dict:
        with self.lock:
            device = self.device(kind, object_id)
            if "power" in changes:
                self._set_power(kind, device, on=changes.pop("power") == "on")
            device.update(changes)
            if "hostname" in changes or "domain" in changes:
                device["fullyQualifiedDomainName"] = f"{device['hostname']}.{device['domain']}"
            self._touch()
            return device


__all__ = [
    "BARE_METAL",
    "CONTENT_FAULTS",
    "INJECTABLE_FAULTS",
    "PUBLIC_ISO_IMAGES",
    "TRANSPORT_FAULTS",
    "VIRTUAL",
    "FaultRule",
    "SoftLayerFault",
    "World",
]
