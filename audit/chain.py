"""The hash chain: what each row's hash covers, and the check that walks it."""

import hashlib
import json
from collections.abc import Iterable
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


def verify(events: Iterable, start_prev_hash: str = GENESIS, start_seq: int = 1) -> Verdict:
    """Walk rows in seq order; name the first one whose seq, link or content does not hold."""
    prev_hash, expected_seq, checked, last_seq = start_prev_hash, start_seq, 0, start_seq - 1
    for event in events:
        problem = ""
        if event.seq != expected_seq:
            problem = (f"sequence jumps from {expected_seq - 1} to {event.seq}: "
                       f"{'events are missing' if event.seq > expected_seq else 'events are out of order'}")
        elif event.prev_hash != prev_hash:
            problem = "its link to the previous event does not match (an event before it was removed or replaced)"
        elif digest(row_values(event), event.prev_hash) != event.hash:
            problem = "its content does not match its hash (the event was edited)"
        if problem:
            return Verdict(False, checked, last_seq, prev_hash, event.seq, event.pk, problem)
        prev_hash, expected_seq, checked, last_seq = event.hash, event.seq + 1, checked + 1, event.seq
    return Verdict(True, checked, last_seq, prev_hash)
