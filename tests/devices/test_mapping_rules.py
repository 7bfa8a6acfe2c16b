"""Pure decisions of the devices app with plain data: SoftLayer's fields into a Device's, its
faults into the portal's errors, and a sync's look into status changes. Milliseconds each."""

from datetime import UTC, datetime, timedelta

import pytest
from SoftLayer.exceptions import SoftLayerAPIError, TransportError

from devices import provider
from devices.models import Device
from devices.services import _volatile_changes, device_fields

GUEST = {
    "id": 70000001, "hostname": "web01", "domain": "example.com", "fullyQualifiedDomainName": "web01.example.com",
    "primaryIpAddress": "169.45.1.2", "primaryBackendIpAddress": "10.0.0.2", "maxMemory": 4096, "maxCpu": 2,
    "provisionDate": "2025-03-01T10:00:00-06:00", "datacenter": {"name": "dal10", "longName": "Dallas 10"},
    "powerState": {"keyName": "HALTED"},
    "operatingSystem": {"softwareLicense": {"softwareDescription": {
        "name": "CentOS", "version": "7.9-64", "referenceCode": "CENTOS_7_64"}}},
    "activeTransaction": {"transactionStatus": {"friendlyName": "Booting the rescue kernel"}},
}


def test_a_virtual_guest_maps_to_the_device_list_fields():
    fields = device_fields("virtual", GUEST)
    assert fields["fqdn"] == "web01.example.com" and fields["datacenter_long_name"] == "Dallas 10"
    assert (fields["os_name"], fields["os_family"]) == ("CentOS 7.9-64", "linux")
    assert (fields["memory_mb"], fields["cpus"], fields["power_state"]) == (4096, 2, "off")
    assert fields["provider_transaction"] == "Booting the rescue kernel"
    assert fields["provisioned_at"] == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)


def test_bare_metal_memory_is_in_gigabytes_and_has_no_power_in_a_list():
    metal = {"id": 1500001, "hostname": "db01", "domain": "example.com", "memoryCapacity": 64,
             "processorPhysicalCoreAmount": 16, "operatingSystemReferenceCode": "WIN_2019-STD_64"}
    fields = device_fields("bare_metal", metal)
    assert (fields["memory_mb"], fields["cpus"], fields["os_family"]) == (65536, 16, "windows")
    assert "power_state" not in fields and fields["fqdn"] == "db01.example.com"


def test_nonsense_addresses_and_missing_parts_do_not_break_the_mapping():
    fields = device_fields("virtual", {"id": 1, "hostname": "x", "primaryIpAddress": "not-an-ip"})
    assert fields["public_ip"] is None and fields["os_family"] == "other" and fields["fqdn"] == "x"


@pytest.mark.parametrize(("fault", "kind", "transient"), [
    (SoftLayerAPIError("SoftLayer_Exception_ObjectNotFound", "Unable to find object with id of '5'."),
     provider.DeviceNotFound, False),
    (SoftLayerAPIError("SoftLayer_Exception_WebService_RateLimitExceeded", "Rate limit of 50 requests for every "
                       "1 second(s) exceeded."), provider.RateLimited, True),
    (SoftLayerAPIError("SoftLayer_Exception_Public", "There is currently an outstanding transaction for this "
                       "server."), provider.DeviceBusy, False),
    (SoftLayerAPIError("SoftLayer_Exception_Public", "Access Denied. "), provider.ProviderAccessDenied, False),
    (SoftLayerAPIError("SoftLayer_Exception_Public", "Internal Error"), provider.ProviderUnavailable, True),
    (TransportError(503, "Service Unavailable"), provider.ProviderUnavailable, True),
    (SoftLayerAPIError("SoftLayer_Exception_Public", "Rescue layer is not available for Windows virtual guests."),
     provider.ProviderError, False),
])
def test_faults_become_errors_a_person_can_act_on(fault, kind, transient):
    error = provider.translate(fault)
    assert type(error) is kind and error.transient is transient and error.message


def test_a_sync_clears_a_failed_mark_only_on_a_running_idle_server():
    looked = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    failed = Device(status="failed", power_state="on", provider_transaction="", observed_at=looked - timedelta(1))
    assert _volatile_changes(failed, {"power_state": "on", "provider_transaction": ""}, looked) == {"status": "normal"}
    assert _volatile_changes(failed, {"power_state": "on", "provider_transaction": "Reloading"}, looked) == {
        "provider_transaction": "Reloading"}
    assert _volatile_changes(failed, {"power_state": "off", "provider_transaction": ""}, looked) == {
        "power_state": "off"}


def test_a_sync_changes_nothing_a_newer_look_recorded():
    looked = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    polled = Device(status="failed", power_state="on", provider_transaction="Booting",
                    observed_at=looked + timedelta(seconds=1))
    assert _volatile_changes(polled, {"power_state": "on", "provider_transaction": ""}, looked) == {}
