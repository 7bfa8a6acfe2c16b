"""Workflow news becomes notices in the operation's own transaction, once each."""

import pytest

from devices.models import Device
from devices.services import sync_devices
from notifications.models import Notice
from tests.factories import OwnerFactory
from workflows import jobs, services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def guest(sim):
    sync_devices()
    return Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()


def test_an_operation_waiting_long_is_told_once(guest, settings):
    settings.OPERATION_SLOW_MINUTES = 0  # no worker runs here: the operation stays queued
    op = services.request_operation(OwnerFactory(), guest, "rescue")
    assert jobs.check_sessions()["long_waits"] == 1
    assert jobs.check_sessions()["long_waits"] == 0
    assert list(Notice.objects.values_list("event", "operation_id")) == [("operation.waiting", op.pk)]


def test_a_failure_is_kept_with_the_operation(guest):
    op = services.request_operation(OwnerFactory(), guest, "rescue")
    services.fail(op, "refused")
    services.fail(op, "refused again")  # an ended operation is not ended twice, nor told twice
    assert list(Notice.objects.values_list("event", flat=True)) == ["operation.failed"]
