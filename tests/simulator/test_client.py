"""The unchanged `SoftLayer` client against the simulator: what a real API user would see."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import SoftLayer
from SoftLayer import SoftLayerAPIError

from simulator.inventory import generate
from tests.support.simulator import SimulatorProcess


@pytest.fixture(scope="module")
def big_simulator():
    # The default latency (25 ms, like a real API) keeps the client's sequential paging under 50/s.
    sim = SimulatorProcess(devices=10_000, seed=3, latency_ms=25)
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def big_inventory():
    return generate(10_000, 3)


def test_list_managers_return_every_device_of_10000_once(big_simulator, big_inventory):
    client = big_simulator.client()

    guests = SoftLayer.VSManager(client).list_instances()
    hardware = SoftLayer.HardwareManager(client).list_hardware()

    assert len(guests) + len(hardware) == 10_000
    assert sorted(g["id"] for g in guests) == sorted(big_inventory.guests)
    assert sorted(h["id"] for h in hardware) == sorted(big_inventory.hardware)
    by_id = {g["id"]: g for g in guests}
    sample = next(iter(big_inventory.guests.values()))
    assert by_id[sample["id"]]["fullyQualifiedDomainName"] == sample["fullyQualifiedDomainName"]
    assert by_id[sample["id"]]["datacenter"]["name"] == sample["datacenter"]["name"]


def test_inventory_is_a_realistic_deterministic_mix(big_inventory):
    again = generate(10_000, 3)
    assert list(again.guests) == list(big_inventory.guests)
    guests = big_inventory.guests.values()
    linux = [g for g in guests if not g["operatingSystemReferenceCode"].startswith("WIN")]
    assert any(g["maxMemory"] < 6144 for g in linux) and any(g["maxMemory"] >= 6144 for g in linux)
    assert any(g["operatingSystemReferenceCode"].startswith("WIN") for g in guests)
    hw_refs = [h["operatingSystemReferenceCode"] for h in big_inventory.hardware.values()]
    assert any(r.startswith("WIN") for r in hw_refs) and any(not r.startswith("WIN") for r in hw_refs)
    assert len({g["datacenter"]["name"] for g in guests}) >= 5
    assert any(g["powerState"]["keyName"] == "HALTED" for g in guests)


def test_small_inventory_still_holds_every_archetype():
    inventory = generate(5, 99)
    memories = [g["maxMemory"] for g in inventory.guests.values()]
    refs = [g["operatingSystemReferenceCode"] for g in inventory.guests.values()]
    assert len(inventory.guests) == 3 and len(inventory.hardware) == 2
    assert min(memories) < 6144 and any(m >= 6144 for m, r in zip(memories, refs, strict=True)
                                        if not r.startswith("WIN"))


def test_paging_sends_the_total_items_header(simulator):
    page = simulator.client().call("Account", "getVirtualGuests", limit=10, offset=5)
    everything = simulator.client().call("Account", "getVirtualGuests")

    assert len(page) == 10
    assert page.total_count == len(everything)
    assert [g["id"] for g in page] == sorted(g["id"] for g in everything)[5:15]


def test_mask_of_local_properties_returns_only_those(simulator):
    guest_id = simulator.client().call("Account", "getVirtualGuests", limit=1)[0]["id"]

    guest = simulator.client().call("Virtual_Guest", "getObject", id=guest_id, mask="mask[id,hostname]")

    assert set(guest) == {"id", "hostname"}


def test_mask_of_relations_adds_them_to_all_local_properties(simulator):
    guest_id = simulator.client().call("Account", "getVirtualGuests", limit=1)[0]["id"]

    guest = simulator.client().call(
        "Virtual_Guest", "getObject", id=guest_id,
        mask="mask[datacenter.name,operatingSystem[passwords[username]]]",
    )

    assert {"hostname", "maxMemory", "primaryBackendIpAddress"} <= set(guest)
    assert guest["datacenter"] == {"name": guest["datacenter"]["name"]}
    assert [set(p) for p in guest["operatingSystem"]["passwords"]] == [{"username"}]
    assert "powerState" not in guest  # relations come only when asked for


def test_no_mask_returns_local_properties_only(simulator):
    guest_id = simulator.client().call("Account", "getVirtualGuests", limit=1)[0]["id"]

    guest = simulator.client().call("Virtual_Guest", "getObject", id=guest_id)

    assert "hostname" in guest and "datacenter" not in guest and "operatingSystem" not in guest


def test_filters_answer_like_the_api(simulator):
    vs = SoftLayer.VSManager(simulator.client())
    everything = vs.list_instances()
    dal = {g["id"] for g in everything if g["datacenter"]["name"] == "dal10"}
    web = {g["id"] for g in everything if g["hostname"].startswith("web")}
    two_gb = {g["id"] for g in everything if g["maxMemory"] == 2048}

    assert {g["id"] for g in vs.list_instances(datacenter="dal10")} == dal
    assert {g["id"] for g in vs.list_instances(hostname="web*")} == web
    assert {g["id"] for g in vs.list_instances(memory=2048)} == two_gb
    one = everything[3]
    assert [g["id"] for g in vs.list_instances(hostname=one["hostname"], domain=one["domain"])] == [one["id"]]


def test_filter_with_in_and_ordering_desc(simulator):
    client = simulator.client()
    ids = [g["id"] for g in client.call("Account", "getVirtualGuests")][:3]

    result = client.call("Account", "getVirtualGuests", filter={"virtualGuests": {
        "id": {"operation": "in", "options": [{"name": "data", "value": ids}]},
        "maxMemory": {"operation": "orderBy", "options": [{"name": "sort", "value": ["DESC"]}]},
    }}, mask="mask[id,maxMemory]")

    assert sorted(g["id"] for g in result) == sorted(ids)
    assert [g["maxMemory"] for g in result] == sorted((g["maxMemory"] for g in result), reverse=True)


def test_operating_system_filter(simulator):
    client = simulator.client()
    windows = client.call("Account", "getHardware", filter={"hardware": {"operatingSystemReferenceCode": {
        "operation": "^= WIN"}}}, mask="mask[id,operatingSystemReferenceCode]")
    assert windows and all(h["operatingSystemReferenceCode"].startswith("WIN") for h in windows)


def test_non_ascii_in_a_request_is_read_as_utf8(simulator):
    found = SoftLayer.VSManager(simulator.client()).list_instances(hostname="café")
    assert list(found) == []


def test_missing_device_is_object_not_found(simulator):
    with pytest.raises(SoftLayerAPIError) as error:
        simulator.client().call("Virtual_Guest", "getObject", id=12345)
    assert error.value.faultCode == "SoftLayer_Exception_ObjectNotFound"
    assert error.value.faultString == "Unable to find object with id of '12345'."


def test_wrong_api_key_is_refused(simulator):
    with pytest.raises(SoftLayerAPIError) as error:
        simulator.client(api_key="not-the-key").call("Account", "getObject")
    assert (error.value.faultCode, error.value.faultString) == ("SoftLayer_Exception_Public", "Access Denied. ")


def test_second_transaction_is_refused_while_one_runs(make_simulator):
    sim = make_simulator(time_scale=1.0)  # real time: the rescue takes minutes
    client = sim.client()
    linux = client.call("Account", "getVirtualGuests", filter={"virtualGuests": {
        "operatingSystemReferenceCode": {"operation": "!~ WIN"}}}, mask="mask[id]", limit=1)[0]

    assert client.call("Virtual_Guest", "executeRescueLayer", id=linux["id"]) is True
    with pytest.raises(SoftLayerAPIError) as error:
        client.call("Virtual_Guest", "executeRescueLayer", id=linux["id"])

    assert error.value.faultString == "There is currently an outstanding transaction for this server."
    progress = client.call("Virtual_Guest", "getObject", id=linux["id"], mask=(
        "mask[activeTransaction[elapsedSeconds,transactionStatus[name,friendlyName,averageDuration],"
        "transactionGroup[name,averageTimeToComplete]]]"))
    assert progress["activeTransaction"]["transactionStatus"]["friendlyName"]
    assert progress["activeTransaction"]["transactionStatus"]["averageDuration"] > 0


def test_rate_limit_of_50_per_second(make_simulator):
    sim = make_simulator(latency_ms=0)
    client = sim.client()

    def one(_):
        try:
            client.call("Account", "getObject")
            return None
        except SoftLayerAPIError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = [e for e in pool.map(one, range(120)) if e is not None]

    assert errors, "120 requests at once must cross 50 per second"
    assert {(e.faultCode, e.faultString) for e in errors} == {(
        "SoftLayer_Exception_WebService_RateLimitExceeded",
        "Rate limit of 50 requests for every 1 second(s) exceeded.")}


@pytest.mark.parametrize("fault,code", [
    ("not_found", "SoftLayer_Exception_ObjectNotFound"),
    ("access_denied", "SoftLayer_Exception_Public"),
    ("outstanding_transaction", "SoftLayer_Exception_Public"),
    ("rate_limit", "SoftLayer_Exception_WebService_RateLimitExceeded"),
])
def test_injected_faults_reach_the_client(make_simulator, fault, code):
    sim = make_simulator()
    sim.inject(fault, method="SoftLayer_Account::getObject")

    with pytest.raises(SoftLayerAPIError) as error:
        sim.client().call("Account", "getObject")

    assert error.value.faultCode == code
    assert sim.client().call("Account", "getObject")["id"]  # one-shot: the next call works


def test_http_error_reaches_the_client_as_transport_error(make_simulator):
    sim = make_simulator()
    sim.inject("http_503", method="SoftLayer_Account::getObject")
    with pytest.raises(SoftLayer.TransportError) as error:
        sim.client().call("Account", "getObject")
    assert error.value.faultCode == 503


def test_power_states_and_public_isos(simulator):
    client = simulator.client()
    guest = client.call("Account", "getVirtualGuests", limit=1, mask="mask[id,powerState]")[0]
    hardware = client.call("Account", "getHardware", limit=1, mask="mask[id]")[0]

    assert client.call("Virtual_Guest", "getPowerState", id=guest["id"])["keyName"] == guest["powerState"]["keyName"]
    assert client.call("Hardware_Server", "getServerPowerState", id=hardware["id"]) in ("on", "off")
    names = [i["name"] for i in client.call("Virtual_Disk_Image", "getPublicIsoImages")]
    assert "WindowsRescueStandalone.iso" in names
    assert client.call("Account", "getCurrentUser")["username"] == "SL-test"
