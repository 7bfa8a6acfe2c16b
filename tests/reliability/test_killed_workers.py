"""A worker SIGKILLed at each point of a job. A new worker starts: every operation reaches its true
final state, SoftLayer begins each transaction exactly once, and the audit trail is complete."""

import signal

import pytest

from tests.factories import OwnerFactory
from tests.reliability.conftest import (
    assert_rescued_exactly_once,
    assert_whole_story,
    finish_with_a_new_worker,
    wait_for_text,
)
from tests.support.operations import wait_for
from tests.support.processes import start_worker, stop
from workflows import services
from workflows.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability]
HORSE_DIED = "Work-horse terminated unexpectedly"
LISTENING = "Listening on poll, default"


@pytest.mark.parametrize("point, state_left", [
    ("before_submit", "queued"),
    ("after_submitting_recorded", "submitting"),  # it may or may not have reached SoftLayer
    ("after_provider_accepted", "submitting"),  # SoftLayer has it; the portal never heard
])
def test_worker_killed_while_submitting(point, state_left, sim, guest, tmp_path):
    # Without its scheduler the doomed worker cannot run RQ's own retry: the successor must recover.
    doomed = start_worker(tmp_path / "doomed.log", scheduler=False, RESCUEPORTAL_CRASH_AT=point)
    wait_for_text(doomed.log_path, LISTENING)  # its start-up reconcile is done: one job, one crash
    op = services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE)
    wait_for_text(doomed.log_path, HORSE_DIED)
    stop(doomed, signal.SIGKILL)  # the whole worker goes too
    op.refresh_from_db()
    assert op.state == state_left
    started_before = sim.transactions_started("virtual", guest.provider_id)
    assert started_before == (1 if point == "after_provider_accepted" else 0)

    op = finish_with_a_new_worker(op, tmp_path / "successor.log")

    assert_rescued_exactly_once(op, sim, guest)


def test_worker_killed_during_a_polling_tick(sim, guest, tmp_path):
    doomed = start_worker(tmp_path / "doomed.log", RESCUEPORTAL_CRASH_AT="during_poll")
    wait_for_text(doomed.log_path, LISTENING)
    op = services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE)
    wait_for_text(doomed.log_path, HORSE_DIED)
    stop(doomed, signal.SIGKILL)
    op.refresh_from_db()
    assert op.state in Operation.IN_FLIGHT_STATES  # submitted; nobody is watching it any more

    op = finish_with_a_new_worker(op, tmp_path / "successor.log")

    assert_rescued_exactly_once(op, sim, guest)


def test_worker_killed_with_many_operations_in_flight(sim, tmp_path):
    """Ten rescues, the worker dies mid-submit; the successor finishes all ten, each submitted once."""
    from devices.models import Device
    from devices.services import sync_devices

    sync_devices()
    guests = list(Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id")[:10])
    doomed = start_worker(tmp_path / "doomed.log", scheduler=False, RESCUEPORTAL_CRASH_AT="after_provider_accepted")
    owner = OwnerFactory()
    ops = [services.request_operation(owner, device, Operation.Kind.RESCUE) for device in guests]
    wait_for_text(doomed.log_path, HORSE_DIED)
    stop(doomed, signal.SIGKILL)

    successor = start_worker(tmp_path / "successor.log")
    try:
        finished = [wait_for(op, "in_rescue", "failed", timeout=60) for op in ops]
    finally:
        stop(successor)

    assert [op.state for op in finished] == ["in_rescue"] * 10
    assert [sim.transactions_started("virtual", d.provider_id) for d in guests] == [1] * 10
    for op in finished:
        assert_whole_story(op)


def test_worker_killed_while_sending_the_exit_at_the_time_limit(sim, guest, tmp_path, settings):
    """The portal's own exit is an operation like any other: a worker dying as SoftLayer takes it
    loses nothing and sends nothing twice; the session ends once."""
    from tests.support.processes import start_cron

    settings.RESCUE_TIME_LIMIT_CHOICES_MINUTES = [0.1]
    session_env = {"RESCUE_SESSION_CHECK_SECONDS": "1", "RESCUE_REMINDER_MINUTES": "0.02",
                   "AUTO_EXIT_RETRY_SECONDS": "2"}
    first = start_worker(tmp_path / "first.log")
    try:
        op = wait_for(services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE, time_limit_minutes=0.1),
                      "in_rescue")
    finally:
        stop(first)
    doomed = start_worker(tmp_path / "doomed.log", scheduler=False, RESCUEPORTAL_CRASH_AT="after_provider_accepted",
                          **session_env)
    cron = start_cron(tmp_path / "cron.log", **session_env)
    try:
        wait_for_text(doomed.log_path, HORSE_DIED, timeout=60)  # the Restart reached SoftLayer; the worker died
        stop(doomed, signal.SIGKILL)
        successor = start_worker(tmp_path / "successor.log", **session_env)
        try:
            op = wait_for(op, "exited", timeout=90)
        finally:
            stop(successor)
    finally:
        stop(cron)

    assert sim.calls()["SoftLayer_Virtual_Guest::rebootDefault"] == 1
    assert list(Operation.objects.filter(device=guest, automatic=True).values_list("state", flat=True)) == ["normal"]
    assert op.ended_by.automatic
