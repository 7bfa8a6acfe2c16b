"""`make run` stops whole, however it ends, and a second one says the first is still running."""

import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.support.portal import alive, descendants, start_portal
from tests.support.processes import MANAGE

pytestmark = pytest.mark.django_db(transaction=True)


def wait_all_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def settled_family(pid: int, quiet: float = 2.0, timeout: float = 30) -> set[int]:
    """Its descendants once no new one has appeared for `quiet` seconds (workers fork after start)."""
    family, since, deadline = descendants(pid), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.2)
        now = descendants(pid)
        if now - family:
            family, since = family | now, time.monotonic()
    return family


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].strip("/"))


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=["ctrl-c", "sigterm", "closed-terminal", "sigkill"])
def test_nothing_outlives_it(tmp_path, how):
    portal = start_portal(tmp_path)
    try:
        if how == signal.SIGINT:
            assert_a_second_run_is_refused(portal)
        family = settled_family(portal.process.pid, quiet=3.0)
        # the watchdog, simulator, worker (and the scheduler it forks), cron, gunicorn (and its workers),
        # and the embedded Redis when no REDIS_URL is set
        assert len(family) >= (6 if "REDIS_URL" in portal.env else 7), family
    finally:
        started = time.monotonic()
        portal.process.send_signal(how)
        portal.process.wait(timeout=60)
    left = wait_all_gone(family, timeout=60)
    took = time.monotonic() - started
    assert not left, f"still running after {how!r}: {left}"
    # Ctrl-C is what a person waits on: everything is down in well under half a minute.
    assert took < 25, f"stopping took {took:.1f}s"
    if how in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        assert portal.process.returncode == 0
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port_of(portal.url))) != 0  # the port is free for the next run


def assert_a_second_run_is_refused(portal) -> None:
    """A second `make run` from the same folder names the running one and leaves it alone."""
    second = subprocess.run([sys.executable, MANAGE, "rundemo"], env={**portal.env, "PORT": "0"},
                            capture_output=True, text=True, timeout=120)
    assert second.returncode != 0
    assert "already running" in second.stderr and str(portal.process.pid) in second.stderr
    assert portal.url in second.stderr and portal.process.poll() is None
