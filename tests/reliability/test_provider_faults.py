"""SoftLayer misbehaving, injected at the simulator: every rescue still ends where it should, and
SoftLayer begins exactly one transaction for it."""

import subprocess
import sys
import time

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import OwnerFactory
from tests.reliability.conftest import assert_whole_story
from tests.support.operations import press_yes, wait_for
from tests.support.processes import MANAGE, child_env, start_worker, stop
from workflows import services
from workflows.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability]
RESCUE = "SoftLayer_Virtual_Guest::executeRescueLayer"
POLL = "SoftLayer_Account::getVirtualGuests"


@pytest.fixture
def impatient_worker(sim, tmp_path, transactional_db):
    """A worker whose SoftLayer calls time out after one second, so a slow answer counts as lost."""
    process = start_worker(tmp_path / "worker.log", SOFTLAYER_TIMEOUT="1")
    yield process
    stop(process)


def rescue(guest) -> Operation:
    return wait_for(services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE), "in_rescue", "failed")


@pytest.mark.parametrize("fault, seconds", [
    ("http_500", 0), ("http_503", 0), ("reset", 0), ("rate_limit", 0), ("internal_error", 0),
    ("lost_response", 0),  # SoftLayer did it; the answer never came
    ("latency", 0.5),  # slow, within the timeout
    ("latency", 2.5),  # past the timeout: SoftLayer does it after the portal stopped waiting
])
def test_fault_on_the_submit(fault, seconds, sim, guest, impatient_worker):
    sim.inject(fault, method=RESCUE, seconds=seconds)
    op = rescue(guest)
    assert op.state == "in_rescue", op.error
    assert sim.transactions_started("virtual", guest.provider_id) == 1
    assert_whole_story(op)


SUBMITS = {"rescue": ("executeRescueLayer", "rescue", "in_rescue"),
           "boot_image": ("mountIsoImage", "mount_iso", "image_mounted"),
           "unload_image": ("unmountIsoImage", "unmount_iso", "normal"),
           "restart": ("rebootDefault", "reboot", "normal")}
RESCUE_ISO = {"id": 5001, "name": "WindowsRescueStandalone.iso"}


@pytest.mark.parametrize("kind", list(SUBMITS))
def test_an_answer_slower_than_the_timeout_is_never_sent_twice(kind, sim, guest, tmp_path):
    """The attack found: SoftLayer answered `executeRescueLayer` after 30 s, the client gave up at
    20 s, the retry saw no transaction yet and sent a second rescue. Here: answers after 4 s, a 1 s
    timeout; the portal reads, never resends, until SoftLayer's own state shows the first took."""
    method, action, done = SUBMITS[kind]
    owner = OwnerFactory()
    worker = start_worker(tmp_path / "worker.log", SOFTLAYER_TIMEOUT="1", SOFTLAYER_SUBMIT_SETTLE_SECONDS="12")
    try:
        if kind == "unload_image":  # an image to unload first
            wait_for(services.request_operation(owner, guest, "boot_image", iso_image=RESCUE_ISO), "image_mounted")
        sim.inject("latency", method=f"SoftLayer_Virtual_Guest::{method}", seconds=4)
        op = services.request_operation(owner, guest, kind, iso_image=RESCUE_ISO if kind == "boot_image" else None)
        op = wait_for(op, done, "failed", timeout=120)
    finally:
        stop(worker)
    assert op.state == done, op.error
    assert sim.stats()["started"].get(f"virtual:{guest.provider_id}:{action}") == 1
    assert op.submit_attempts == 1


@pytest.mark.parametrize("fault, seconds", [("http_500", 0), ("reset", 0), ("rate_limit", 0), ("latency", 2.5)])
def test_faults_on_the_progress_polls(fault, seconds, sim, guest, impatient_worker):
    sim.inject(fault, method=POLL, count=4, seconds=seconds)
    op = rescue(guest)
    assert op.state == "in_rescue", op.error
    assert sim.transactions_started("virtual", guest.provider_id) == 1


def test_whole_outage_operations_wait_pages_load_and_say_so(sim, guest, worker):
    sim.inject("http_503", count=0)  # every call, until cleared
    client = Client()
    client.force_login(OwnerFactory())
    press_yes(client, reverse("workflows:rescue", args=[guest.pk]), {"reason": "outage drill"})
    op = Operation.objects.get(device=guest)

    progress = ""
    for _ in range(100):
        progress = client.get(reverse("workflows:operation_progress", args=[op.pk])).content.decode()
        if "Waiting for SoftLayer" in progress:
            break
        time.sleep(0.1)
    assert "could not be reached" in progress and "keeps trying" in progress
    detail = client.get(reverse("devices:detail", args=[guest.pk]))
    assert detail.status_code == 200 and "could not be reached" in detail.content.decode()
    assert client.get(reverse("devices:list")).status_code == 200
    op.refresh_from_db()
    assert op.is_active  # waiting, not failed

    sim.clear_faults()
    op = wait_for(op, "in_rescue", "failed", timeout=60)
    assert op.state == "in_rescue" and sim.transactions_started("virtual", guest.provider_id) == 1
    after = client.get(reverse("workflows:operation_progress", args=[op.pk])).content.decode()
    assert "Waiting for SoftLayer" not in after and "Done" in after


def test_all_processes_together_stay_under_the_rate_limit(make_simulator, settings, transactional_db):
    """Three inventory syncs at once, small pages, an instant simulator: at most 50 requests in any second."""
    big = make_simulator(devices=600, seed=3, latency_ms=0)
    big.point_settings_here(settings)
    env = child_env(SOFTLAYER_PAGE_SIZE="10")
    syncs = [subprocess.Popen([sys.executable, MANAGE, "sync_devices"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [process.communicate(timeout=120)[1] for process in syncs]

    stats = big.stats()
    assert all(process.returncode == 0 for process in syncs), errors
    assert stats["total"] >= 3 * 60  # enough requests that three unthrottled processes would pass 50/s
    assert stats["peak_per_second"] <= 50 and stats["rate_limited"] == 0, stats
