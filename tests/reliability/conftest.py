import time

import pytest

from audit.chain import verify
from audit.models import AuditEvent
from devices.models import Device
from devices.services import sync_devices
from tests.support.operations import wait_for
from tests.support.processes import start_worker, stop
from workflows.models import Operation


@pytest.fixture
def guest(sim) -> Device:
    """A Linux virtual server of the simulator, known to the portal."""
    sync_devices()
    return Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()


def wait_for_text(path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {path}:\n{path.read_text() if path.exists() else ''}")


def assert_whole_story(op: Operation, final_outcome: str = "succeeded") -> None:
    """The operation's audit rows: asked, about to submit, accepted, and one final row; the chain holds."""
    rows = list(AuditEvent.objects.filter(operation_id=op.pk).order_by("seq"))
    steps = [row.detail.get("step") for row in rows]
    assert "about to submit" in steps and "accepted by SoftLayer" in steps, steps
    assert [row.outcome for row in rows].count(final_outcome) == 1
    assert rows[0].outcome == "requested" and rows[-1].outcome == final_outcome
    assert verify(AuditEvent.objects.order_by("seq")).intact


def finish_with_a_new_worker(op: Operation, log_path, timeout: float = 30) -> Operation:
    """Start a fresh worker (its start-up reconcile included), wait for the operation to end, stop it."""
    worker = start_worker(log_path)
    try:
        return wait_for(op, "in_rescue", "failed", timeout=timeout)
    finally:
        stop(worker)


def assert_rescued_exactly_once(op: Operation, sim, device: Device) -> None:
    """In rescue, SoftLayer asked once, and the audit trail tells the whole story."""
    assert op.state == "in_rescue", op.error
    assert sim.transactions_started(device.kind, device.provider_id) == 1
    assert_whole_story(op)
