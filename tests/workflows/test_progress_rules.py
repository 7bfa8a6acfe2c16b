"""The pure reading of one look at a device into an operation's phase: plain dicts, milliseconds."""

from datetime import UTC, datetime, timedelta

import pytest

from workflows.progress import BOOTING, DONE, PHASE, POWERING_DOWN, WAITING, Memory, provider_took_it, read

SUBMITTED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def look(status: str | None, power: str | None = "RUNNING", txn_id: int = 900, last: dict | None = None) -> dict:
    remote: dict = {"id": 1}
    if power:
        remote["powerState"] = {"keyName": power}
    if status:
        remote["activeTransaction"] = {
            "id": txn_id, "createDate": SUBMITTED.isoformat(), "elapsedSeconds": 3,
            "transactionStatus": {"name": "OPAQUE", "friendlyName": status, "averageDuration": 40},
            "transactionGroup": {"name": "Rescue Layer", "averageTimeToComplete": 3.67}}
    if last:
        remote["lastTransaction"] = last
    return remote


def memory(**kwargs) -> Memory:
    return Memory(**{"state": "powering_down", "submit_started_at": SUBMITTED, **kwargs})


def test_virtual_server_halted_is_powering_down_with_the_estimate():
    reading = read("virtual", look("Powering down the server", "HALTED"), memory())
    assert (reading.outcome, reading.state, reading.provider_status) == (PHASE, POWERING_DOWN,
                                                                         "Powering down the server")
    assert reading.saw_power_off and reading.estimate_seconds == 220 and reading.transaction_id == 900


def test_virtual_server_seen_halted_then_running_is_booting():
    before = memory(provider_status="Powering down the server", saw_power_off=True, provider_transaction_id=900)
    assert read("virtual", look("Powering down the server", "RUNNING"), before).state == BOOTING


def test_virtual_server_whose_halt_was_missed_boots_when_the_status_moves_on():
    """The bug: a look that missed the halt kept the timeline on Powering down to the end."""
    before = memory(provider_status="Powering down the server", provider_transaction_id=900)
    reading = read("virtual", look("Booting the rescue kernel", "RUNNING"), before)
    assert reading.state == BOOTING and reading.provider_status == "Booting the rescue kernel"


def test_first_look_at_a_running_server_is_not_yet_booting():
    assert read("virtual", look("Powering down the server", "RUNNING"), memory()).state == POWERING_DOWN


@pytest.mark.parametrize("status", ["Booting the rescue kernel", "Configuring network for rescue"])
def test_bare_metal_boots_when_its_status_moves_on(status):
    before = memory(provider_status="Powering down the server", provider_transaction_id=900)
    assert read("bare_metal", look(status, power=None), before).state == BOOTING
    assert read("bare_metal", look("Powering down the server", power=None), before).state == POWERING_DOWN


def test_booting_never_goes_back_to_powering_down():
    before = memory(state="booting", provider_status="Booting the rescue kernel", provider_transaction_id=900)
    assert read("bare_metal", look("Booting the rescue kernel", power=None), before).state == BOOTING


def test_no_transaction_after_one_was_seen_is_done():
    assert read("virtual", look(None), memory(saw_transaction=True)).outcome == DONE


def test_no_transaction_yet_is_waiting_unless_the_last_one_is_ours():
    assert read("virtual", look(None), memory()).outcome == WAITING
    old = {"id": 5, "createDate": (SUBMITTED - timedelta(days=2)).isoformat()}
    assert read("virtual", look(None, last=old), memory()).outcome == WAITING
    ours = {"id": 6, "createDate": (SUBMITTED + timedelta(seconds=1)).isoformat()}
    assert read("virtual", look(None, last=ours), memory()).outcome == DONE


def test_another_transaction_than_ours_is_not_read_as_our_progress():
    reading = read("virtual", look("Powering down the server", txn_id=901), memory(provider_transaction_id=900,
                                                                                   saw_transaction=True))
    assert reading.outcome == DONE


def test_a_submit_whose_answer_was_lost_is_recognised_by_its_transaction():
    assert provider_took_it(look("Powering down the server"), SUBMITTED)
    assert not provider_took_it(look(None, last={"id": 1, "createDate": "2026-01-01T00:00:00+00:00"}), SUBMITTED)
