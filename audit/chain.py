"""The hash chain: what each row's hash covers, and the check that walks it."""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "created_at", "actor_id", "actor_username", "actor_type", "source_ip", "request_id",
                 "event", "outcome", "object_type", "object_id", "object_label", "device_id", "operation_id",
                 "reason", "detail")


def digest(values: dict, prev_hash: str) -> str:
    content = dict(values)
    content["created_at"] = content["created_at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def row_values(event) -> dict:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


@dataclass
class Verdict:
    intact: bool
    checked: int
    last_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str = ""
    unsealed: int = 0  # rows from before seals existed, vouched for by the signed digests only


def verify(events: Iterable, start_prev_hash: str = GENESIS, start_seq: int = 1,
           seal_holds: Callable | None = None, unsealed_until: int = 0) -> Verdict:
    """Walk rows in seq order; name the first one whose seq, link, content or (given `seal_holds`)
    seal does not hold. Rows without a seal are accepted only up to `unsealed_until` (written
    before seals existed)."""
    prev_hash, expected_seq, checked, last_seq = start_prev_hash, start_seq, 0, start_seq - 1
    unsealed = 0
    for event in events:
        problem = ""
        if event.seq != expected_seq:
            problem = (f"sequence jumps from {expected_seq - 1} to {event.seq}: "
                       f"{'events are missing' if event.seq > expected_seq else 'events are out of order'}")
        elif event.prev_hash != prev_hash:
            problem = "its link to the previous event does not match (an event before it was removed or replaced)"
        elif digest(row_values(event), event.prev_hash) != event.hash:
            problem = "its content does not match its hash (the event was edited)"
        elif seal_holds is not None and event.seal is None and event.seq > unsealed_until:
            problem = "it has no seal (it was written without the digest key)"
        elif seal_holds is not None and event.seal is not None and not seal_holds(event):
            problem = "its seal does not hold (it was written or rewritten without the digest key)"
        if problem:
            return Verdict(False, checked, last_seq, prev_hash, event.seq, event.pk, problem, unsealed)
        unsealed += event.seal is None
        prev_hash, expected_seq, checked, last_seq = event.hash, event.seq + 1, checked + 1, event.seq
    return Verdict(True, checked, last_seq, prev_hash, unsealed=unsealed)
