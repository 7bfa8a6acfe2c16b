"""The inventory sync mirrors the account: new, changed and vanished devices, with few API calls."""

import math

import pytest

from devices.models import Device, InventorySync
from devices.provider import ProviderUnavailable
from devices.services import sync_devices

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(make_simulator, settings):
    sim = make_simulator(devices=60, seed=11, latency_ms=0)
    sim.point_settings_here(settings)
    return sim


def test_first_sync_creates_every_device_with_its_details(sim):
    client = sim.client()
    guests = client.call("Account", "getVirtualGuests", mask=(
        "mask[id,fullyQualifiedDomainName,maxMemory,primaryIpAddress,primaryBackendIpAddress,datacenter,"
        "powerState,operatingSystemReferenceCode]"))
    hardware = client.call("Account", "getHardware", mask="mask[id,memoryCapacity,operatingSystemReferenceCode]")

    run = sync_devices()

    assert run.created == Device.objects.count() == len(guests) + len(hardware) == 60
    guest = guests[0]
    device = Device.objects.get(kind="virtual", provider_id=guest["id"])
    assert device.fqdn == guest["fullyQualifiedDomainName"]
    assert device.memory_mb == guest["maxMemory"]
    assert device.datacenter == guest["datacenter"]["name"]
    assert device.public_ip == guest.get("primaryIpAddress")
    assert device.private_ip == guest["primaryBackendIpAddress"]
    assert device.power_state == ("on" if guest["powerState"]["keyName"] == "RUNNING" else "off")
    assert device.os_family == ("windows" if guest["operatingSystemReferenceCode"].startswith("WIN") else "linux")
    server = Device.objects.get(kind="bare_metal", provider_id=hardware[0]["id"])
    assert server.memory_mb == hardware[0]["memoryCapacity"] * 1024
    assert server.power_state == "unknown"  # bare metal power is read live on the device page


def test_second_sync_changes_nothing_when_nothing_changed(sim):
    sync_devices()
    run = sync_devices()
    assert (run.created, run.updated, run.vanished) == (0, 0, 0)


def test_changed_new_and_vanished_devices(sim):
    sync_devices()
    client = sim.client()
    guest_ids = [g["id"] for g in client.call("Account", "getVirtualGuests", mask="mask[id]")]
    renamed, removed = guest_ids[0], guest_ids[1]
    sim.update_device("virtual", renamed, hostname="renamed", power="off")
    sim.remove_device("virtual", removed)
    added = sim.add_device("bare_metal", family="windows")

    run = sync_devices()

    assert (run.created, run.updated, run.vanished) == (1, 1, 1)
    device = Device.objects.get(kind="virtual", provider_id=renamed)
    assert device.hostname == "renamed" and device.fqdn.startswith("renamed.") and device.power_state == "off"
    gone = Device.objects.get(kind="virtual", provider_id=removed)
    assert gone.vanished_at is not None  # kept, with its history, never deleted
    assert Device.objects.get(kind="bare_metal", provider_id=added).os_family == "windows"


def test_a_vanished_device_that_returns_is_restored(sim):
    sync_devices()
    guest = sim.client().call("Account", "getVirtualGuests", limit=1, mask="mask[id]")[0]
    Device.objects.filter(provider_id=guest["id"]).update(vanished_at="2026-01-01T00:00:00Z")

    run = sync_devices()

    assert run.restored == 1
    assert Device.objects.get(provider_id=guest["id"]).vanished_at is None


def test_provider_failure_midway_changes_nothing(sim):
    sync_devices()
    before = list(Device.objects.order_by("pk").values_list("pk", "fqdn", "vanished_at"))
    sim.inject("http_500", method="SoftLayer_Account::getHardware", count=0)

    with pytest.raises(ProviderUnavailable):
        sync_devices()

    assert list(Device.objects.order_by("pk").values_list("pk", "fqdn", "vanished_at")) == before
    failed = InventorySync.objects.latest()
    assert failed.error and failed.finished_at


def test_transient_fault_during_sync_is_retried(sim):
    sim.inject("rate_limit", method="SoftLayer_Account::getVirtualGuests")
    run = sync_devices()
    assert run.total == 60 and run.api_calls == 3


@pytest.mark.parametrize("devices", [100, 2000])
def test_api_calls_grow_only_with_pages(make_simulator, settings, devices):
    sim = make_simulator(devices=devices, seed=5, latency_ms=0)
    sim.point_settings_here(settings)
    settings.SOFTLAYER_PAGE_SIZE = 250
    client = sim.client()
    guests = client.call("Account", "getVirtualGuestCount")
    hardware = client.call("Account", "getHardwareCount")
    sim.reset()

    run = sync_devices()

    expected = max(1, math.ceil(guests / 250)) + max(1, math.ceil(hardware / 250))
    assert run.total == devices
    assert run.api_calls == sim.total_calls() == expected


def test_pages_fetched_at_once_give_every_device_once_even_when_one_page_fails(make_simulator, settings):
    sim = make_simulator(devices=300, seed=8, latency_ms=5)
    sim.point_settings_here(settings)
    settings.SOFTLAYER_PAGE_SIZE = 10
    settings.SOFTLAYER_PARALLEL_PAGES = 1
    one_at_a_time = sync_devices()
    seen_alone = set(Device.objects.values_list("kind", "provider_id", "fqdn"))
    Device.objects.all().delete()

    settings.SOFTLAYER_PARALLEL_PAGES = 4
    sim.inject("http_500", method="SoftLayer_Account::getVirtualGuests", count=2)  # two pages answer 500 once
    at_once = sync_devices()

    assert at_once.total == one_at_a_time.total == 300
    assert set(Device.objects.values_list("kind", "provider_id", "fqdn")) == seen_alone
    assert at_once.api_calls == one_at_a_time.api_calls + 2  # only the two failed pages were asked again
