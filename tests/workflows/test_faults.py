"""Provider faults during a rescue: the right final state and message, and never a second submit."""

import pytest
from django.utils import timezone

from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory
from tests.support.operations import wait_for
from workflows import services
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)
RESCUE = "SoftLayer_Virtual_Guest::executeRescueLayer"


@pytest.fixture
def linux_guest(sim):
    sync_devices()
    return Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()


def request_rescue(device: Device) -> Operation:
    return services.request_operation(OwnerFactory(), device, Operation.Kind.RESCUE)


def test_busy_device_fails_with_what_to_do(sim, linux_guest, worker):
    sim.inject("outstanding_transaction", method=RESCUE)
    op = wait_for(request_rescue(linux_guest), "failed")
    assert "already running a transaction" in op.error and "try again" in op.error
    assert sim.calls()[RESCUE] == 1
    linux_guest.refresh_from_db()
    assert linux_guest.status == "normal"  # SoftLayer took nothing: the server is not branded Failed


def test_not_found_fails_with_what_to_do(sim, linux_guest, worker):
    sim.inject("not_found", method=RESCUE)
    op = wait_for(request_rescue(linux_guest), "failed")
    assert "does not know this device" in op.error and sim.calls()[RESCUE] == 1


def test_rate_limited_submit_is_sent_again_and_succeeds(sim, linux_guest, worker):
    sim.inject("rate_limit", method=RESCUE)
    wait_for(request_rescue(linux_guest), "in_rescue")
    assert sim.calls()[RESCUE] == 2  # the first was refused by the API, so nothing was done twice


def test_transient_error_then_success_looks_before_sending_again(sim, linux_guest, worker):
    sim.inject("http_503", method=RESCUE)
    op = wait_for(request_rescue(linux_guest), "in_rescue")
    assert sim.calls()[RESCUE] == 2 and op.submit_attempts == 2
    assert sim.calls()["SoftLayer_Account::getVirtualGuests"] >= 2  # the state was read before the resend


def test_lost_response_is_not_submitted_twice(sim, linux_guest, worker):
    """SoftLayer did it but the answer never came: the retry sees the transaction and does not resend."""
    sim.inject("lost_response", method=RESCUE)
    op = wait_for(request_rescue(linux_guest), "in_rescue")
    assert sim.calls()[RESCUE] == 1 and op.submit_attempts == 1


@pytest.mark.time_scale(1.0)  # a rescue that takes minutes: it stays in flight
def test_stuck_transaction_fails_after_its_deadline(sim, linux_guest, worker):
    op = wait_for(request_rescue(linux_guest), "powering_down", "booting")
    Operation.objects.filter(pk=op.pk).update(deadline_at=timezone.now())  # as if 45 minutes had passed

    op = wait_for(op, "failed")

    assert "transaction seems stuck" in op.error
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(operation_id=op.pk, outcome="failed", event="device.rescue").exists()


def test_a_windows_guest_rescue_is_refused_before_anything_is_sent(sim):
    """The rescue kernel does not exist for Windows guests (SoftLayer refuses it): the portal says
    what to use instead, whoever asks (a page, a batch), and sends nothing."""
    from audit.models import AuditEvent

    sync_devices()
    windows = Device.objects.filter(kind="virtual", os_family="windows").first()
    with pytest.raises(services.OperationRefused, match=r"use Boot from image with WindowsRescueStandalone\.iso"):
        request_rescue(windows)
    assert sim.calls().get(RESCUE, 0) == 0 and not Operation.objects.exists()
    assert AuditEvent.objects.filter(device_id=windows.pk, event="device.rescue", outcome="denied").exists()
