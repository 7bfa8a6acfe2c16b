"""The gateway turns provider faults into errors the portal can act on, and keeps under the limit."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from SoftLayer import SoftLayerAPIError

from devices import provider
from devices.provider import Gateway


@pytest.fixture
def sim(make_simulator, settings):
    sim = make_simulator(latency_ms=0)
    sim.point_settings_here(settings)
    return sim


def test_missing_device_is_device_not_found(sim):
    with pytest.raises(provider.DeviceNotFound) as error:
        Gateway().get_device(provider.VIRTUAL, 4242)
    assert "4242" in error.value.message


def test_wrong_credentials_are_access_denied_with_what_to_check(sim, settings):
    settings.SOFTLAYER_API_KEY = "wrong"
    with pytest.raises(provider.ProviderAccessDenied) as error:
        Gateway().public_iso_images()
    assert "SOFTLAYER_API_KEY" in error.value.message


def test_outstanding_transaction_is_device_busy(sim):
    sim.inject("outstanding_transaction", method="SoftLayer_Virtual_Disk_Image::getPublicIsoImages")
    with pytest.raises(provider.DeviceBusy):
        Gateway().public_iso_images()
    assert sim.calls()["SoftLayer_Virtual_Disk_Image::getPublicIsoImages"] == 1  # permanent: no retry


def test_transient_faults_are_retried_until_success(sim):
    sim.inject("rate_limit", method="SoftLayer_Virtual_Disk_Image::getPublicIsoImages")
    sim.inject("http_503", method="SoftLayer_Virtual_Disk_Image::getPublicIsoImages")
    gateway = Gateway()

    images = gateway.public_iso_images()

    assert "WindowsRescueStandalone.iso" in [i["name"] for i in images]
    assert gateway.calls == 3 == sim.calls()["SoftLayer_Virtual_Disk_Image::getPublicIsoImages"]


def test_transient_faults_give_up_after_the_configured_attempts(sim, settings):
    settings.SOFTLAYER_RETRY_ATTEMPTS = 3
    sim.inject("reset", method="SoftLayer_Virtual_Disk_Image::getPublicIsoImages", count=0)
    with pytest.raises(provider.ProviderUnavailable) as error:
        Gateway().public_iso_images()
    assert "could not be reached" in error.value.message
    assert sim.calls()["SoftLayer_Virtual_Disk_Image::getPublicIsoImages"] == 3


def test_unreachable_provider_is_unavailable(settings):
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"
    settings.SOFTLAYER_RETRY_ATTEMPTS = 2
    with pytest.raises(provider.ProviderUnavailable):
        Gateway().public_iso_images()


def test_gateway_stays_under_the_rate_limit_where_the_bare_client_does_not(sim):
    """Both send 100 requests from 8 threads at once; only the gateway's all succeed."""
    client = sim.client()

    def bare(_):
        try:
            client.call("Account", "getObject")
            return True
        except SoftLayerAPIError:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        bare_ok = sum(pool.map(bare, range(100)))
    sim.reset()
    time.sleep(1.1)  # let the simulator's one-second window empty
    gateway = Gateway()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: gateway.call("Account", "getObject"), range(100)))

    assert bare_ok < 100
    assert gateway.calls == 100 == sim.calls()["SoftLayer_Account::getObject"]  # no fault, so no retry


def test_power_state_reads_both_kinds(sim):
    client = sim.client()
    guest = client.call("Account", "getVirtualGuests", limit=1, mask="mask[id,powerState]")[0]
    server = client.call("Account", "getHardware", limit=1, mask="mask[id]")[0]
    gateway = Gateway()

    assert gateway.power_state(provider.VIRTUAL, guest["id"]) == (
        "on" if guest["powerState"]["keyName"] == "RUNNING" else "off")
    sim.update_device("bare_metal", server["id"], power="off")
    assert gateway.power_state(provider.BARE_METAL, server["id"]) == "off"
