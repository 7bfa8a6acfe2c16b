"""Only devices writes Device rows; what the list shows recovers by itself, and no older look wins."""

from datetime import timedelta

import pytest
from django.utils import timezone

from devices import services
from devices.models import Device
from devices.services import sync_devices

pytestmark = pytest.mark.django_db


@pytest.fixture
def guest(simulator, settings):
    simulator.point_settings_here(settings)
    sync_devices()
    return Device.objects.filter(kind="virtual").order_by("provider_id").first()


def test_a_failed_mark_goes_at_the_next_sync_that_sees_the_server_running(guest):
    services.report_status(guest.pk, Device.Status.FAILED)  # what a failed rescue reports
    sync_devices()
    guest.refresh_from_db()
    assert guest.status == "normal" and guest.power_state == "on"


def test_a_sync_that_read_before_a_poll_does_not_undo_the_poll(guest):
    later = timezone.now() + timedelta(seconds=30)  # a poll that looked after the sync began
    assert services.report_observation(guest.pk, later, provider_transaction="Booting the rescue kernel")
    sync_devices()
    guest.refresh_from_db()
    assert guest.provider_transaction == "Booting the rescue kernel"
    # and an older look than the one recorded changes nothing either
    assert not services.report_observation(guest.pk, timezone.now(), provider_transaction="")


def test_a_status_set_after_the_sync_began_is_kept(guest):
    services.report_status(guest.pk, Device.Status.RESCUE_IN_PROGRESS)
    Device.objects.filter(pk=guest.pk).update(observed_at=timezone.now() + timedelta(seconds=30))
    sync_devices()
    guest.refresh_from_db()
    assert guest.status == "rescue_in_progress"
