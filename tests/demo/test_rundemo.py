"""`make run` stops whole, however it ends, and a second one says the first is still running."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from accounts.models import User
from devices.models import Device
from tests.support.operations import wait_for
from tests.support.portal import alive, descendants, start_portal
from tests.support.processes import MANAGE, manage
from workflows.models import Operation

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


def roles(pid: int) -> dict[str, set[int]]:
    """The family's processes by what they run."""
    found: dict[str, set[int]] = {}
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        for role in ("rqworker", "rqcron", "redis-server", "gunicorn", "runsimulator"):
            if role in command and alive(child):
                found.setdefault(role, set()).add(child)
    return found


def schedulers(pid: int) -> set[int]:
    """The rqworker processes a worker forked for RQ's scheduler: not the workers `make run` started,
    nor the short-lived work horses a worker forks per job (those start their own process group)."""
    found = set()
    for child in roles(pid).get("rqworker", set()):
        try:
            if parent_of(child) != pid and os.getpgid(child) == os.getpgid(parent_of(child)):
                found.add(child)
        except (OSError, ValueError):  # gone meanwhile
            continue
    return found


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def wait_for_roles(pid: int, replaced: dict[str, set[int]], timeout: float = 90) -> dict[str, set[int]]:
    """Until each role has a live process that is not one of the `replaced` ones."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = roles(pid)
        if all(now.get(role, set()) - old for role, old in replaced.items()):
            return now
        time.sleep(0.2)
    raise AssertionError(f"not started again within {timeout}s: {replaced}, now {roles(pid)}")


def test_a_process_that_dies_is_started_again_and_the_portal_keeps_working(tmp_path):
    """SIGKILL the worker, the cron (and the embedded Redis): `make run` starts each again, says so,
    and a rescue asked afterwards is carried out."""
    portal = start_portal(tmp_path)
    reader = _Lines(portal.process)
    try:
        settled_family(portal.process.pid)
        deadline = time.monotonic() + 60  # a worker forks the scheduler once it has reconciled
        while not schedulers(portal.process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        before = roles(portal.process.pid)
        forked: dict[int, set[int]] = {}
        for pid in schedulers(portal.process.pid):
            forked.setdefault(parent_of(pid), set()).add(pid)
        assert forked, before
        # A worker that runs a scheduler (RQ locks each queue's scheduling to one worker), alone: what
        # it forked must not live on (holding the scheduler lock).
        worker, scheduler = sorted(forked.items())[0]
        os.kill(worker, signal.SIGKILL)
        assert not wait_all_gone(scheduler, timeout=30), "the dead worker's scheduler lived on"
        reader.wait_for("left behind by a process that died")
        wait_for_roles(portal.process.pid, {"rqworker": before["rqworker"]})

        before = roles(portal.process.pid)
        victims = {role: pids for role, pids in before.items() if role in ("rqworker", "rqcron", "redis-server")}
        assert {"rqworker", "rqcron"} <= set(victims), before
        for pids in victims.values():
            for pid in pids:
                os.kill(pid, signal.SIGKILL)

        wait_for_roles(portal.process.pid, victims)
        assert portal.process.poll() is None, reader.text()
        for role in ("worker", "cron") + (("redis",) if "redis-server" in victims else ()):
            reader.wait_for(f"The {role} process exited with code")
            reader.wait_for(f"The {role} process is running again")

        owner = User.objects.get(username="owner")
        device = Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()
        asked = manage("shell", "-c", "from accounts.models import User; from devices.models import Device; "
                       "from workflows.services import request_operation; "
                       f"request_operation(User.objects.get(pk={owner.pk}), Device.objects.get(pk={device.pk}), "
                       "'rescue')", env=portal.env)
        assert asked.returncode == 0, asked.stderr
        op = wait_for(Operation.objects.get(device=device), "in_rescue", "failed", timeout=180)
        assert op.state == "in_rescue", op.error
    finally:
        portal.process.send_signal(signal.SIGINT)
        portal.process.wait(timeout=60)
        reader.join()


class _Lines:
    """Reads the portal's output in the background, so it never blocks on a full pipe."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process) -> None:
        for line in process.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared:\n{self.text()}")
            time.sleep(0.1)

    def join(self) -> None:
        self.thread.join(timeout=10)


def test_ctrl_c_during_the_first_sync_stops_cleanly(tmp_path):
    """A terminal's Ctrl-C reaches the whole foreground group while the inventory is still being read."""
    from tests.support.portal import rundemo_env

    env = {**rundemo_env(tmp_path), "SIMULATOR_DEVICES": "20000"}
    process = subprocess.Popen([sys.executable, MANAGE, "rundemo"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    for line in process.stdout:
        output.append(line)
        if "SoftLayer simulator listening" in line:
            break
    time.sleep(2)  # the inventory of 20,000 devices is being read
    family = descendants(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    text = "".join(output) + rest
    assert process.returncode == 0, text
    assert "Stopped." in text and "Traceback" not in text and "Rescue Portal is running" not in text, text
    assert not wait_all_gone(family, timeout=30)
