"""Waiting for an operation, as a person watching its page would."""

import time

from workflows.models import Operation


def wait_for(op: Operation, *states: str, timeout: float = 30) -> Operation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op.refresh_from_db()
        if op.state in states:
            return op
        time.sleep(0.1)
    raise AssertionError(f"operation {op.pk} stayed {op.state!r}, wanted {states}; error: {op.error!r}")
