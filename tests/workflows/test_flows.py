"""Each path end to end: the view, a real worker and scheduler, the real client, the simulator."""

import re
import threading

import pytest
from django.test import Client
from django.urls import reverse

from accounts import capabilities as caps
from audit.models import AuditEvent
from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory, UserFactory, grant
from tests.support.operations import press_yes, wait_for
from tests.support.processes import run_worker_burst
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def devices(sim):
    sync_devices()
    return Device.objects


@pytest.fixture
def owner_client(devices):
    client = Client()
    client.force_login(OwnerFactory())
    return client


def pick(devices, **filters) -> Device:
    return devices.filter(**filters).order_by("provider_id").first()


def ask(client, name: str, device: Device, *args, data=None) -> Operation:
    response = press_yes(client, reverse(f"workflows:{name}", args=[device.pk, *args]), data)
    assert response.status_code == 302, response.content[:500]
    return Operation.objects.get(pk=int(re.search(r"/operations/(\d+)/", response["Location"]).group(1)))


def events_of(op: Operation) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(operation_id=op.pk).order_by("seq").values_list("event", "outcome"))


def test_linux_virtual_server_under_6gb_rescue_and_restart(owner_client, devices, worker, sim):
    device = pick(devices, kind="virtual", os_family="linux", memory_mb__lt=6144)

    confirm = owner_client.get(reverse("workflows:rescue", args=[device.pk])).content.decode()
    assert "Change this device to rescue mode immediately?" in confirm and "CentOS 5" in confirm
    op = wait_for(ask(owner_client, "rescue", device), "in_rescue")

    assert op.rescue_os.startswith("CentOS 5") and op.reason == "testing"
    device.refresh_from_db()
    assert device.status == "in_rescue"
    assert events_of(op)[0] == ("device.rescue", "requested") and events_of(op)[-1] == ("device.rescue", "succeeded")
    assert sim.calls()["SoftLayer_Virtual_Guest::executeRescueLayer"] == 1

    back = wait_for(ask(owner_client, "restart", device), "normal")
    device.refresh_from_db()
    assert device.status == "normal" and events_of(back)[-1] == ("device.restart", "succeeded")
    assert sim.calls()["SoftLayer_Virtual_Guest::rebootDefault"] == 1


@pytest.mark.time_scale(0.04)  # power-off 1.6 s, boot 6 s: longer than the 1 s scheduler tick
def test_linux_virtual_server_over_6gb_gets_centos_7(owner_client, devices, worker):
    device = pick(devices, kind="virtual", os_family="linux", memory_mb__gte=6144)
    op = wait_for(ask(owner_client, "rescue", device), "in_rescue")
    assert op.rescue_os == "CentOS 7 or later"
    # The timeline passed through the phases the provider played.
    steps = [e.detail.get("step") for e in AuditEvent.objects.filter(operation_id=op.pk).order_by("seq")]
    assert "accepted by SoftLayer" in steps and "booting" in steps


def test_windows_virtual_server_boots_the_rescue_image_then_continues(owner_client, devices, worker, sim):
    device = pick(devices, kind="virtual", os_family="windows")
    page = owner_client.get(reverse("workflows:rescue", args=[device.pk])).content.decode()
    assert "WindowsRescueStandalone.iso" in page and "no rescue kernel" in page
    images = owner_client.get(reverse("workflows:boot_image", args=[device.pk])).content.decode()
    assert images.index("WindowsRescueStandalone.iso") < images.index("CentOS-7")
    assert "Recommended for Windows" in images
    iso = next(i for i in sim.client().call("Virtual_Disk_Image", "getPublicIsoImages")
               if i["name"] == "WindowsRescueStandalone.iso")

    op = wait_for(ask(owner_client, "boot_image_confirm", device, iso["id"]), "image_mounted")
    device.refresh_from_db()
    assert device.status == "image_mounted" and op.iso_image_name == "WindowsRescueStandalone.iso"
    mounted = sim.client().call("Virtual_Guest", "getIsoBootImage", id=device.provider_id)
    assert mounted["name"] == "WindowsRescueStandalone.iso"
    page = owner_client.get(reverse("workflows:boot_image", args=[device.pk])).content.decode()
    assert "unload the current image and return to normal booting" in page

    back = wait_for(ask(owner_client, "unload_image", device), "normal")
    device.refresh_from_db()
    assert device.status == "normal" and events_of(back)[-1] == ("device.unload_image", "succeeded")
    assert sim.client().call("Virtual_Guest", "getIsoBootImage", id=device.provider_id) == {}
    assert sim.calls().get("SoftLayer_Virtual_Guest::executeRescueLayer", 0) == 0


@pytest.mark.parametrize("family", ["linux", "windows"])
def test_bare_metal_rescue(owner_client, devices, worker, sim, family):
    device = pick(devices, kind="bare_metal", os_family=family)
    op = wait_for(ask(owner_client, "rescue", device), "in_rescue")
    assert op.rescue_os == "The rescue kernel for the server's operating system"
    assert sim.calls()["SoftLayer_Hardware_Server::bootToRescueLayer"] == 1


def test_no_changes_nothing(owner_client, devices, worker, sim):
    device = pick(devices, kind="virtual", os_family="linux")
    page = owner_client.get(reverse("workflows:rescue", args=[device.pk])).content.decode()
    no_link = re.search(r'id="no" href="([^"]+)"', page).group(1)
    assert no_link == reverse("devices:detail", args=[device.pk])
    assert owner_client.get(no_link).status_code == 200
    assert not Operation.objects.exists() and sim.calls().get("SoftLayer_Virtual_Guest::executeRescueLayer") is None


def test_double_submit_makes_one_operation_and_one_provider_call(devices, worker, sim):
    owner = OwnerFactory()
    device = pick(devices, kind="virtual", os_family="linux")
    clients = [Client() for _ in range(6)]
    for client in clients:
        client.force_login(owner)
    start = threading.Barrier(len(clients))
    answers = []

    def click(client):
        start.wait()
        answers.append(press_yes(client, reverse("workflows:rescue", args=[device.pk]), follow=True))

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Operation.objects.count() == 1
    assert any("already in progress" in a.content.decode() for a in answers)
    refused = AuditEvent.objects.filter(event="device.rescue", outcome="denied", device_id=device.pk)
    # every refused Yes is on record, whether the check or the database's unique rule refused it
    assert refused.count() == len(clients) - 1 and all("already in progress" in row.reason for row in refused)
    wait_for(Operation.objects.get(), "in_rescue")
    assert sim.calls()["SoftLayer_Virtual_Guest::executeRescueLayer"] == 1


def test_permission_revoked_before_the_job_starts(devices, sim):
    operator = grant(UserFactory(), caps.ACCESS_ALL_GUEST, caps.SERVER_RELOAD)
    client = Client()
    client.force_login(operator)
    device = pick(devices, kind="virtual", os_family="linux")
    op = ask(client, "rescue", device)  # no worker yet: it waits in the queue
    operator.capabilities.remove(*operator.capabilities.filter(key=caps.SERVER_RELOAD))

    run_worker_burst()

    op.refresh_from_db()
    assert op.state == "failed" and "no longer has permission" in op.error
    assert ("device.rescue", "denied") in events_of(op)
    assert sim.calls().get("SoftLayer_Virtual_Guest::executeRescueLayer") is None
    device.refresh_from_db()
    assert device.status == "normal"  # nothing was sent: the device is not branded Failed


def test_forged_and_foreign_requests_change_nothing(devices, sim):
    viewer = grant(UserFactory(), devices=[pick(devices, kind="virtual", os_family="linux")])
    client = Client()
    client.force_login(viewer)
    mine = pick(devices, kind="virtual", os_family="linux")
    foreign = devices.filter(kind="virtual").exclude(pk=mine.pk).first()

    assert client.post(reverse("workflows:rescue", args=[mine.pk])).status_code == 403  # no SERVER_RELOAD
    assert client.post(reverse("workflows:rescue", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("workflows:rescue", args=[999999])).status_code == 404
    assert client.get(reverse("workflows:boot_image_confirm", args=[mine.pk, 5001])).status_code == 403
    assert not Operation.objects.exists()
    assert AuditEvent.objects.filter(event="device.rescue", outcome="denied").count() == 1


def test_unknown_iso_and_iso_for_bare_metal(owner_client, devices):
    guest, metal = pick(devices, kind="virtual"), pick(devices, kind="bare_metal")
    assert owner_client.post(reverse("workflows:boot_image_confirm", args=[guest.pk, 424242])).status_code == 404
    assert owner_client.post(reverse("workflows:boot_image_confirm", args=[metal.pk, 5001])).status_code == 404
    assert owner_client.get(reverse("workflows:boot_image", args=[metal.pk])).status_code == 404
    assert not Operation.objects.exists()
