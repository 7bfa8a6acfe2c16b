"""One polling tick reads every in-flight device of a kind with one API call, at 1 or 200."""

import pytest

from accounts.models import User
from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory
from tests.support.processes import run_worker_burst
from workflows import jobs, services
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def big(make_simulator, settings):
    sim = make_simulator(devices=420, seed=4, latency_ms=0, time_scale=1.0)  # rescues last minutes
    sim.point_settings_here(settings)
    sync_devices()
    return sim


def start(owner: User, devices) -> None:
    for device in devices:
        services.request_operation(owner, device, Operation.Kind.RESCUE)
    run_worker_burst(timeout=300)  # the submit jobs; the polls they schedule wait in the scheduler


def tick_calls(sim) -> tuple[dict, dict]:
    sim.reset()
    result = jobs.poll_operations()
    return result, sim.calls()


def test_calls_per_tick_stay_constant_from_1_to_200_in_flight(big):
    owner = OwnerFactory()
    linux_guests = list(Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id"))
    metal = list(Device.objects.filter(kind="bare_metal").order_by("provider_id"))

    start(owner, linux_guests[:1])
    one, calls_at_1 = tick_calls(big)
    start(owner, linux_guests[1:150] + metal[:50])
    many, calls_at_200 = tick_calls(big)

    assert one["operations"] == 1 and many["operations"] == 200
    assert calls_at_1 == {"SoftLayer_Account::getVirtualGuests": 1}
    assert calls_at_200 == {"SoftLayer_Account::getVirtualGuests": 1, "SoftLayer_Account::getHardware": 1}
    assert Operation.objects.filter(state__in=Operation.IN_FLIGHT_STATES).count() == 200
    print(f"API calls per tick: {sum(calls_at_1.values())} at 1 in flight, {sum(calls_at_200.values())} at 200")


def test_a_tick_costs_the_same_queries_at_1_and_at_40_in_flight(big):
    """Looks that change no operation are recorded in bulk: a tick's SQL does not grow with the
    operations in flight (each that does change costs its own writes and audit row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.models import AuditEvent

    owner = OwnerFactory()
    guests = list(Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id"))

    def quiet_tick() -> tuple[int, int]:
        jobs.poll_operations()  # the first look after a submit may move the phase
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as tick:
            jobs.poll_operations()
        return len(tick), AuditEvent.objects.count() - before

    start(owner, guests[:1])
    at_1, changes_at_1 = quiet_tick()
    start(owner, guests[1:40])
    at_40, changes_at_40 = quiet_tick()

    assert Operation.objects.filter(state__in=Operation.IN_FLIGHT_STATES).count() == 40
    per_change = 12  # a compare-and-set, the device, the audit row's chain: a changed operation's own cost
    assert at_40 <= at_1 + 3 + per_change * max(0, changes_at_40 - changes_at_1), (at_1, at_40, changes_at_40)
    print(f"SQL queries per quiet tick: {at_1} at 1 in flight, {at_40} at 40 ({changes_at_40} changed)")
