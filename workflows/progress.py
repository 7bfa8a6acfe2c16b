"""Reading one look at a device (a poll's row, or a direct read) into an operation's phase.

Pure: plain SoftLayer dicts and the operation's memory in, a `Reading` out, so each rule is
checked in milliseconds (tests/workflows/test_progress_rules.py). The portal shows SoftLayer's
friendlyName and never branches on a transaction's internal name: a phase is read from the power
state and from the transaction's status moving on.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime

POWERING_DOWN, BOOTING = "powering_down", "booting"
PHASE, DONE, WAITING = "phase", "done", "waiting"
VIRTUAL = "virtual"


@dataclass(frozen=True)
class Memory:
    """What the operation remembers from earlier looks."""

    state: str
    provider_status: str = ""
    provider_transaction_id: int | None = None
    saw_transaction: bool = False
    saw_power_off: bool = False
    submit_started_at: datetime | None = None


@dataclass(frozen=True)
class Reading:
    outcome: str  # PHASE (still running), DONE (finished), WAITING (no transaction of ours yet)
    state: str = ""
    provider_status: str = ""
    transaction_id: int | None = None
    estimate_seconds: int | None = None
    saw_power_off: bool = False


def newer_than(stamp: str | None, moment: datetime | None) -> bool:
    """Was the provider's timestamp made at or after `moment` (with 5 s for clocks apart)?"""
    parsed = parse_datetime(stamp) if stamp else None
    return bool(parsed and moment and parsed >= moment - timedelta(seconds=5))


def provider_took_it(remote: dict, submit_started_at: datetime | None) -> bool:
    """Did the provider accept a submit whose answer we never got? (A transaction of its time shows.)"""
    active = remote.get("activeTransaction")
    last = remote.get("lastTransaction") or {}
    return bool(active and newer_than(active.get("createDate"), submit_started_at)) or newer_than(
        last.get("createDate"), submit_started_at)


def read(kind: str, remote: dict, memory: Memory) -> Reading:
    """The phase of the operation according to this look at the device.

    SoftLayer's transaction first powers the device down, then boots it. Booting is read when a
    virtual server seen halted runs again, or when the transaction's status has moved on from the
    one seen before (bare metal shows no power state in a list, and a look may miss the halt).
    Once booting, an operation never goes back to powering down.
    """
    active = remote.get("activeTransaction")
    if active and memory.provider_transaction_id in (None, active.get("id")):
        status = (active.get("transactionStatus") or {}).get("friendlyName", "")
        estimate = (active.get("transactionGroup") or {}).get("averageTimeToComplete")
        halted = kind == VIRTUAL and (remote.get("powerState") or {}).get("keyName") == "HALTED"
        saw_power_off = memory.saw_power_off or halted
        moved_on = bool(memory.provider_status) and bool(status) and status != memory.provider_status
        booting = memory.state == BOOTING or (not halted and (saw_power_off or moved_on))
        return Reading(PHASE, BOOTING if booting else POWERING_DOWN, status or memory.provider_status,
                       active.get("id"), int(float(estimate) * 60) if estimate else None, saw_power_off)
    last = remote.get("lastTransaction") or {}
    finished = memory.saw_transaction or newer_than(last.get("createDate"), memory.submit_started_at) or (
        memory.provider_transaction_id is not None and last.get("id") == memory.provider_transaction_id)
    return Reading(DONE if finished else WAITING)
