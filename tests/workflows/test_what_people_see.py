"""What the timeline, the device and the history say must match what happened at SoftLayer."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory, UserFactory, grant
from tests.support.operations import wait_for
from tests.support.processes import start_worker, stop
from workflows import services
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)
GUESTS = "SoftLayer_Account::getVirtualGuests"


@pytest.fixture
def devices(sim):
    sync_devices()
    return Device.objects


def first(devices, **filters) -> Device:
    return devices.filter(**filters).order_by("provider_id").first()


def steps(op: Operation) -> list[str]:
    return [e.detail.get("step") for e in AuditEvent.objects.filter(operation_id=op.pk).order_by("seq")]


@pytest.mark.time_scale(0.02)  # power-off 0.8 s, boot 3 s, network 0.6 s
@pytest.mark.parametrize("kind", ["virtual", "bare_metal"])
def test_the_timeline_lights_booting_even_when_polls_miss_the_power_off(devices, tmp_path, kind):
    """With polls 1 s apart the power-off phase falls between two of them: Booting must still show."""
    worker = start_worker(tmp_path / "worker.log", OPERATION_POLL_SECONDS="1.0")
    try:
        device = first(devices, kind=kind, os_family="linux")
        op = wait_for(services.request_operation(OwnerFactory(), device, Operation.Kind.RESCUE), "in_rescue",
                      "failed", timeout=120)
    finally:
        stop(worker)
    assert op.state == "in_rescue", op.error
    assert "booting" in steps(op), steps(op)


@pytest.mark.time_scale(0.01)
def test_a_row_missing_from_a_poll_does_not_fail_the_operation(devices, sim, worker):
    """SoftLayer's list left the device out of three polls: it is read by id, and the rescue goes on."""
    device = first(devices, kind="virtual", os_family="linux")
    sim.inject("drop_row", method=GUESTS, count=3)
    op = wait_for(services.request_operation(OwnerFactory(), device, Operation.Kind.RESCUE), "in_rescue", "failed",
                  timeout=120)
    assert op.state == "in_rescue", op.error
    assert sim.calls()["SoftLayer_Virtual_Guest::getObject"] >= 3  # the direct reads
    assert sim.transactions_started("virtual", device.provider_id) == 1


@pytest.mark.time_scale(1.0)  # a rescue that takes minutes: it stays in flight
def test_a_device_softlayer_says_is_gone_fails_as_gone(devices, sim, worker):
    device = first(devices, kind="virtual", os_family="linux")
    op = wait_for(services.request_operation(OwnerFactory(), device, Operation.Kind.RESCUE), "powering_down",
                  "booting")
    sim.remove_device("virtual", device.provider_id)
    op = wait_for(op, "failed", timeout=60)
    assert "no longer knows this device" in op.error


def test_rescue_restart_and_what_history_says(devices, worker, client):
    owner = OwnerFactory()
    client.force_login(owner)
    device = first(devices, kind="virtual", os_family="linux")
    rescue = wait_for(services.request_operation(owner, device, Operation.Kind.RESCUE, reason="fsck"), "in_rescue")
    device.refresh_from_db()
    assert device.status == "in_rescue"

    # Rescue mode again says what to do instead, before Yes and if Yes is forced.
    page = client.get(reverse("workflows:rescue", args=[device.pk])).content.decode()
    assert "already in rescue mode" in page and "Restart" in page and 'id="yes" disabled' in page
    with pytest.raises(services.OperationRefused, match="already in rescue mode"):
        services.request_operation(owner, device, Operation.Kind.RESCUE)
    assert Operation.objects.filter(device=device).count() == 1

    restart = wait_for(services.request_operation(owner, device, Operation.Kind.RESTART, reason="done"), "normal")
    rescue.refresh_from_db()
    assert rescue.state == "exited" and rescue.ended_by_id == restart.pk and rescue.exited_at

    client.force_login(grant(UserFactory(username="auditor"), roles=["Auditor"]))
    rescues = client.get(reverse("audit:rescues")).content.decode()
    assert "Exited" in rescues and "(still in rescue)" not in rescues and "Restart by" in rescues
    story = client.get(reverse("audit:story", args=[rescue.pk])).content.decode()
    assert "Ended by" in story and f"Restart by {owner.username}" in story
    story_ops = set(AuditEvent.objects.filter(operation_id__in=[rescue.pk, restart.pk]).values_list(
        "operation_id", flat=True))
    assert story_ops == {rescue.pk, restart.pk}
    assert story.count("device.restart") >= 2  # the restart's own rows are part of the story

    client.force_login(owner)
    detail = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "Exited" in detail
