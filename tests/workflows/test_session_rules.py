"""The pure rules of rescue sessions' time limits, with plain values."""

from workflows.rules import (
    extension_blocker,
    minutes_label,
    not_running_blocker,
    reminder_lead_seconds,
    time_limit_choices,
)

OFFERED = [30, 60, 120, 240, 480]


def test_choices_stop_at_the_maximum_and_never_run_out():
    assert time_limit_choices(OFFERED, 120) == [30, 60, 120]
    assert time_limit_choices(OFFERED, 10) == [10]  # a maximum below every offer is itself the one choice
    assert time_limit_choices([60, 60, -5, 0], 480) == [60]


def test_labels_read_as_people_say_them():
    assert [minutes_label(m) for m in (0.5, 1, 2, 90, 60, 120, 270)] == [
        "30 seconds", "1 minute", "2 minutes", "1 hour 30 minutes", "1 hour", "2 hours", "4 hours 30 minutes"]


def test_the_reminder_comes_before_the_end_even_for_short_limits():
    assert reminder_lead_seconds(3600, 10) == 600
    assert reminder_lead_seconds(120, 10) == 60  # half of a 2-minute limit


def test_extensions_are_offered_steps_within_the_maximum():
    assert extension_blocker(3600, 30, OFFERED, 480) == ""
    assert "offered" in extension_blocker(3600, 45, OFFERED, 480)
    assert "at most 8 hours" in extension_blocker(8 * 3600 - 60, 30, OFFERED, 480)


def test_back_to_normal_needs_a_running_device_with_no_transaction():
    busy = {"activeTransaction": {"transactionStatus": {"friendlyName": "Reloading"}}}
    assert "Reloading" in not_running_blocker("on", busy)
    assert "powered off" in not_running_blocker("off", {})
    assert not_running_blocker("on", {"activeTransaction": None}) == ""
