"""When `make run` starts a dead process again, and when it gives up."""

import pytest

from demo.family import Family, GaveUp, restart_delay


def test_a_first_exit_restarts_at_once():
    assert restart_delay([100.0], now=100.0) == 0.0


def test_exits_close_together_back_off():
    exits = [100.0, 101.0, 103.0, 107.0]
    assert [restart_delay(exits[:n], now=exits[n - 1]) for n in range(1, 5)] == [0.0, 1.0, 2.0, 4.0]


def test_old_exits_are_forgotten():
    assert restart_delay([0.0, 10.0, 20.0, 30.0, 400.0], now=400.0) == 0.0


def test_more_than_five_exits_in_five_minutes_give_up():
    assert restart_delay([0.0, 1.0, 2.0, 3.0, 4.0], now=4.0) == 8.0
    assert restart_delay([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], now=5.0) is None


def test_a_process_that_keeps_exiting_stops_the_family_with_its_name():
    """A real process that exits at once; the clock handed to `supervise` moves 10 s a look."""
    family = Family(grace_seconds=1)
    try:
        family.spawn("flaky", ["false"])
        said: list[str] = []
        clock = 0.0
        with pytest.raises(GaveUp, match="The flaky process exited 6 times"):
            for _ in range(20):
                family.members[0].process.wait(timeout=30)
                clock += 10
                said += family.supervise(now=clock)
        assert said[0] == "The flaky process exited with code 1; starting it again."
        assert said[1].startswith("The flaky process is running again (pid ")
        assert "The flaky process exited with code 1; starting it again in 8 s." in said
    finally:
        family.stop()
