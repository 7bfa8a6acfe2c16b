"""Rescue sessions end on time: the Yes carries a limit, a reminder comes, the portal exits by
itself (once, and again if SoftLayer refuses), people extend or end it, or say it was restarted
from inside. A real worker, RQ's cron, the real client and the simulator."""

import threading
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import capabilities as caps
from audit.models import AuditEvent
from devices import provider
from devices.models import Device
from devices.services import sync_devices
from notifications.models import Notice
from tests.factories import OwnerFactory, UserFactory, grant
from tests.support.operations import press_yes, wait_for
from tests.support.processes import start_cron, start_worker, stop
from workflows import jobs, services
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)
REBOOT = "SoftLayer_Virtual_Guest::rebootDefault"
SHORT = 0.15  # minutes: a 9-second session, reminded 3 s before its end
SESSION_ENV = {"RESCUE_REMINDER_MINUTES": "0.05", "AUTO_EXIT_RETRY_SECONDS": "2", "RESCUE_SESSION_CHECK_SECONDS": "1"}


@pytest.fixture
def short_limits(settings):
    settings.RESCUE_TIME_LIMIT_CHOICES_MINUTES = [SHORT, 0.5, 60]
    settings.RESCUE_TIME_LIMIT_MAX_MINUTES = 60.7
    settings.RESCUE_REMINDER_MINUTES = 0.05
    settings.AUTO_EXIT_RETRY_SECONDS = 2
    return settings


@pytest.fixture
def session_stack(transactional_db, sim, tmp_path, short_limits, request):
    """A worker and RQ's cron, with short session timings (a `session_env` mark changes some)."""
    marker = request.node.get_closest_marker("session_env")
    env = {**SESSION_ENV, **(marker.kwargs if marker else {})}
    short_limits.AUTO_EXIT_RETRY_SECONDS = float(env["AUTO_EXIT_RETRY_SECONDS"])
    worker = start_worker(tmp_path / "worker.log", **env)
    cron = start_cron(tmp_path / "cron.log", **env)
    yield
    stop(cron)
    stop(worker)


@pytest.fixture
def guest(sim):
    sync_devices()
    return Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()


def rescue(client: Client, device: Device, minutes: float) -> Operation:
    response = press_yes(client, reverse("workflows:rescue", args=[device.pk]), {"time_limit": f"{minutes:g}"})
    assert response.status_code == 302, response.content[:400]
    return Operation.objects.filter(device=device, kind="rescue").latest("created_at")


def events(op: Operation, name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(operation_id=op.pk, event=name).order_by("seq"))


def wait_until(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout} s: {what}")


def test_a_rescue_reminds_then_ends_by_itself_once(sim, guest, session_stack):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    op = wait_for(rescue(client, guest, SHORT), "in_rescue")
    assert op.time_limit_seconds == 9 and op.ends_at is not None

    page = client.get(reverse("workflows:operation", args=[op.pk])).content.decode()
    assert "Time left:" in page and "Then the portal restarts the device" in page
    listing = client.get(reverse("devices:list"), {"q": guest.hostname}).content.decode()
    assert 'class="muted small time-left"' in listing  # the Device List shows the time left too

    wait_until(lambda: events(op, "rescue_session.reminder"), what="the reminder")
    op.refresh_from_db()
    assert op.state == "in_rescue" and op.reminded_at < op.ends_at  # reminded before the end
    wait_for(op, "exited", timeout=90)

    exit_op = op.ended_by
    assert exit_op.kind == "restart" and exit_op.automatic and exit_op.requested_by == owner
    assert "Time limit of 9 seconds reached" in exit_op.reason
    requested = AuditEvent.objects.get(operation_id=exit_op.pk, event="device.restart", outcome="requested",
                                       detail__automatic="time limit")
    assert requested.actor_id == owner.pk  # on the requester's behalf
    guest.refresh_from_db()
    assert guest.status == "normal"
    time.sleep(3)  # a few more cron ticks: nothing more is sent for an ended session
    assert sim.calls()[REBOOT] == 1 and len(events(op, "rescue_session.reminder")) == 1
    assert Operation.objects.filter(device=guest, automatic=True).count() == 1


def test_an_image_session_ends_with_continue(sim, guest, session_stack):
    owner = OwnerFactory()
    images = provider.Gateway().public_iso_images()
    image = next(i for i in images if i["name"] == "WindowsRescueStandalone.iso")
    op = wait_for(services.request_operation(owner, guest, "boot_image", time_limit_minutes=SHORT,
                                             iso_image={"id": image["id"], "name": image["name"]}), "image_mounted")
    wait_for(op, "exited", timeout=90)
    assert op.ended_by.kind == "unload_image" and op.ended_by.automatic
    guest.refresh_from_db()
    assert guest.status == "normal" and guest.session_ends_at is None


@pytest.mark.session_env(AUTO_EXIT_RETRY_SECONDS="10")
def test_an_exit_softlayer_refuses_is_said_and_tried_again(sim, guest, session_stack):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    op = wait_for(rescue(client, guest, SHORT), "in_rescue")
    sim.inject("outstanding_transaction", method=REBOOT)  # the first exit is refused by SoftLayer

    wait_until(lambda: Operation.objects.filter(device=guest, automatic=True, state="failed").exists(),
               what="the refused exit")
    page = client.get(reverse("workflows:operation", args=[op.pk])).content.decode()
    assert "The portal's exit at the time limit failed: SoftLayer is already running a transaction" in page
    assert "It tries again at" in page
    wait_for(op, "exited", timeout=90)
    assert sim.calls()[REBOOT] == 2
    assert list(Operation.objects.filter(device=guest, automatic=True).order_by("pk").values_list(
        "state", flat=True)) == ["failed", "normal"]


def test_two_checks_at_once_ask_for_one_exit(sim, guest, short_limits, worker):
    op = wait_for(services.request_operation(OwnerFactory(), guest, "rescue", time_limit_minutes=SHORT),
                  "in_rescue")
    wait_until(lambda: Operation.objects.get(pk=op.pk).ends_at <= timezone.now(), timeout=30,
               what="the end of the limit")
    results = []
    threads = [threading.Thread(target=lambda: results.append(jobs.check_sessions())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["exits_requested"] for r in results) == 1, results
    wait_for(op, "exited", timeout=90)
    assert sim.calls()[REBOOT] == 1


def test_extend_is_bounded_audited_and_needs_a_reason(sim, guest, short_limits, worker):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    op = wait_for(services.request_operation(owner, guest, "rescue", time_limit_minutes=60), "in_rescue")
    before = op.ends_at
    url = reverse("workflows:extend_session", args=[op.pk])

    page = client.post(url, {"minutes": "0.5", "reason": ""}, follow=True).content.decode()
    assert "Say why the session needs more time" in page
    page = client.post(url, {"minutes": "999", "reason": "more"}, follow=True).content.decode()
    assert "Choose one of the offered time limits" in page  # a forged step: refused and recorded
    page = client.post(url, {"minutes": "60", "reason": "big job"}, follow=True).content.decode()
    assert "may last at most" in page
    op.refresh_from_db()
    assert op.ends_at == before  # nothing above changed it
    assert [e.outcome for e in events(op, "rescue_session.extend")] == ["denied", "denied"]  # forged, too long

    page = client.post(url, {"minutes": "0.5", "reason": "fsck still running"}, follow=True).content.decode()
    op.refresh_from_db()
    assert round((op.ends_at - before).total_seconds()) == 30 and "Extended" in page
    extended = events(op, "rescue_session.extend")[-1]
    assert extended.outcome == "succeeded" and extended.reason == "fsck still running"


def test_only_people_allowed_on_the_device_extend_or_end_it(sim, guest, short_limits, worker):
    op = wait_for(services.request_operation(OwnerFactory(), guest, "rescue", time_limit_minutes=60), "in_rescue")
    viewer = Client()
    viewer.force_login(grant(UserFactory(), caps.REMOTE_MANAGEMENT, devices=[guest]))  # may restart, not rescue
    stranger = Client()
    stranger.force_login(UserFactory())
    before = Operation.objects.get(pk=op.pk).ends_at

    assert stranger.post(reverse("workflows:extend_session", args=[op.pk]),
                         {"minutes": "0.5", "reason": "x"}).status_code == 404
    assert stranger.post(reverse("workflows:back_from_inside", args=[op.pk])).status_code == 404
    assert viewer.post(reverse("workflows:extend_session", args=[op.pk]),
                       {"minutes": "0.5", "reason": "x"}).status_code == 403
    assert Operation.objects.get(pk=op.pk).ends_at == before
    assert AuditEvent.objects.filter(event="rescue_session.extend", outcome="denied", operation_id=op.pk).exists()


def test_back_to_normal_after_a_restart_from_inside_sends_nothing(sim, guest, worker):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    op = wait_for(services.request_operation(owner, guest, "rescue"), "in_rescue")
    sim.reboot_from_os("virtual", guest.provider_id)
    calls_before = sim.calls()

    response = client.post(reverse("workflows:back_from_inside", args=[op.pk]), follow=True)
    assert "is back to normal" in response.content.decode()
    op.refresh_from_db()
    guest.refresh_from_db()
    assert op.state == "exited" and "Restarted from inside" in op.exit_note and guest.status == "normal"
    sent = {m: n - calls_before.get(m, 0) for m, n in sim.calls().items() if n != calls_before.get(m, 0)}
    assert not any(m.endswith(("rebootDefault", "executeRescueLayer", "unmountIso")) for m in sent), sent
    assert events(op, "rescue_session.back_from_inside")[-1].outcome == "succeeded"
    again = client.post(reverse("workflows:back_from_inside", args=[op.pk]), follow=True).content.decode()
    assert "This session has already ended" in again


def test_back_to_normal_is_refused_while_the_device_is_off(sim, guest, worker):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    op = wait_for(services.request_operation(owner, guest, "rescue"), "in_rescue")
    sim.update_device("virtual", guest.provider_id, powerState={"keyName": "HALTED", "name": "Halted"})

    page = client.post(reverse("workflows:back_from_inside", args=[op.pk]), follow=True).content.decode()
    assert "powered off" in page
    op.refresh_from_db()
    assert op.state == "in_rescue"
    assert events(op, "rescue_session.back_from_inside")[-1].outcome == "denied"


def test_a_forged_time_limit_requests_nothing(sim, guest, short_limits):
    client = Client()
    client.force_login(OwnerFactory())
    response = press_yes(client, reverse("workflows:rescue", args=[guest.pk]), {"time_limit": "100000"},
                         follow=True)
    assert "Nothing was requested" in response.content.decode()
    assert "Choose one of the offered time limits" in response.content.decode()
    assert not Operation.objects.filter(device=guest).exists()


def test_a_session_not_reached_yet_cannot_be_extended_or_closed(sim, guest, short_limits):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    op = services.request_operation(owner, guest, "rescue", time_limit_minutes=60)  # no worker: still queued
    for name, data in (("extend_session", {"minutes": "0.5", "reason": "x"}), ("back_from_inside", {})):
        page = client.post(reverse(f"workflows:{name}", args=[op.pk]), data, follow=True).content.decode()
        assert "has not reached rescue yet" in page


def test_a_session_whose_device_left_the_account_is_closed_and_said(sim, guest, session_stack):
    owner = OwnerFactory()
    op = wait_for(services.request_operation(owner, guest, "rescue", time_limit_minutes=SHORT), "in_rescue")
    sim.remove_device("virtual", guest.provider_id)
    sync_devices()  # the portal learns it is gone

    op = wait_for(op, "exited", timeout=90)
    assert "no longer in the SoftLayer account" in op.exit_note
    assert not Operation.objects.filter(device=guest, automatic=True).exists()
    assert Notice.objects.filter(operation=op, event="session.exit_failed").count() == 1
