"""Bulk rescue from the Device List: one confirmation with each device's pre-flight, one Yes,
an operation per device under the same checks; refusals are listed, never fatal."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts import capabilities as caps
from audit.models import AuditEvent
from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory, UserFactory, grant
from tests.support.operations import wait_for
from workflows import services
from workflows.models import Batch, Operation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def linux(sim):
    sync_devices()
    return list(Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id"))


def confirm_page(client, kind: str, devices=(), **params):
    query = {"device": [d.pk for d in devices], **params}
    return client.get(reverse("workflows:batch_new", args=[kind]), query)


def yes(client, kind: str, page, keep=None, follow: bool = False, **data):
    html = page.content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', html).group(1)
    offered = [int(pk) for pk in re.findall(r'name="device" value="(\d+)"(?! disabled)[^>]*checked', html)]
    return client.post(reverse("workflows:batch_new", args=[kind]), {
        "confirmation": token, "device": keep if keep is not None else offered, "reason": "patch night", **data},
        follow=follow)


def test_ten_linux_servers_in_one_batch_with_a_blocked_one_listed(sim, linux, worker):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    busy = linux[10]
    wait_for(services.request_operation(owner, busy, "rescue"), "in_rescue")  # already in rescue: blocked

    page = confirm_page(client, "rescue", [*linux[:10], busy])
    html = page.content.decode()
    assert "Rescue mode on 10 devices immediately?" in html
    assert html.count("Ready</span>") == 10 and "already in rescue mode" in html
    started = time.monotonic()
    response = yes(client, "rescue", page)
    assert response.status_code == 302
    batch = Batch.objects.get()
    ops = [item.operation for item in batch.items.select_related("operation")]
    assert len(ops) == 10 and all(op is not None for op in ops)
    for op in ops:
        wait_for(op, "in_rescue", timeout=120)
    took = time.monotonic() - started
    print(f"batch of 10: Yes to the last in rescue {took:.1f} s")

    page = client.get(response["Location"]).content.decode()
    assert "10 in rescue" in page
    assert AuditEvent.objects.filter(event="device.rescue", outcome="requested", detail__batch=batch.pk).exists()
    assert sim.calls()["SoftLayer_Virtual_Guest::executeRescueLayer"] == 11  # the ten, and the busy one before


def test_a_device_refused_when_sent_is_listed_and_the_others_go_on(sim, linux, worker):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    page = confirm_page(client, "restart", linux[:3])
    services.request_operation(owner, linux[1], "rescue")  # it became busy after the page was shown

    yes(client, "restart", page)
    batch = Batch.objects.get()
    items = {item.device_id: item for item in batch.items.all()}
    assert "already in progress" in items[linux[1].pk].refused and items[linux[1].pk].operation is None
    assert all(items[d.pk].operation for d in (linux[0], linux[2]))
    html = client.get(reverse("workflows:batch", args=[batch.pk])).content.decode()
    assert "Refused" in html and "already in progress" in html


def test_devices_outside_access_are_not_offered_and_not_taken(sim, linux):
    operator = grant(UserFactory(), caps.SERVER_RELOAD, devices=linux[:2])
    client = Client()
    client.force_login(operator)
    page = confirm_page(client, "rescue", linux[:3])  # the third is someone else's
    html = page.content.decode()
    assert linux[2].fqdn not in html and "Rescue mode on 2 devices" in html

    forged = yes(client, "rescue", page, keep=[linux[0].pk, linux[2].pk], follow=True)
    assert "A device that was not offered was sent" in forged.content.decode()
    assert not Operation.objects.exists() and not Batch.objects.exists()


def test_a_replayed_yes_requests_nothing_more(sim, linux):
    client = Client()
    client.force_login(OwnerFactory())
    page = confirm_page(client, "restart", linux[:2])
    yes(client, "restart", page)
    again = yes(client, "restart", page, follow=True)
    assert "already used" in again.content.decode()
    assert Batch.objects.count() == 1 and Operation.objects.count() == 2
    assert AuditEvent.objects.filter(event="device.restart", outcome="denied", detail__batch=True).exists()


def test_all_matching_a_filter_is_bounded(sim, linux, settings):
    settings.BULK_MAX_DEVICES = 5
    client = Client()
    client.force_login(OwnerFactory())
    listing = client.get(reverse("devices:list"), {"kind": "virtual"}).content.decode()
    assert 'id="bulk-all" disabled' in listing and "at most 5 at once" in listing
    response = confirm_page(client, "rescue", all="1", filter="kind=virtual")
    assert response.status_code == 302
    assert "a batch takes at most 5" in client.get(response["Location"]).content.decode()

    response = confirm_page(client, "rescue", all="1", filter="os_family=linux&q=" + linux[0].hostname)
    assert "Rescue mode on 1 device immediately?" in response.content.decode()


def test_a_batch_page_is_its_requesters_and_the_owners(sim, linux):
    requester = grant(UserFactory(), caps.REMOTE_MANAGEMENT, devices=linux[:1])
    client = Client()
    client.force_login(requester)
    yes(client, "restart", confirm_page(client, "restart", linux[:1]))
    batch = Batch.objects.get()
    other = Client()
    other.force_login(grant(UserFactory(), caps.REMOTE_MANAGEMENT, devices=linux[:1]))
    assert other.get(reverse("workflows:batch", args=[batch.pk])).status_code == 404
    owner = Client()
    owner.force_login(OwnerFactory())
    assert owner.get(reverse("workflows:batch", args=[batch.pk])).status_code == 200


@pytest.mark.parametrize("forged", ["%C2%B2", "²", "99999999999999999999999", "-1", "1e3"])
def test_odd_device_ids_are_no_devices(sim, linux, forged):
    client = Client()
    client.force_login(OwnerFactory())
    response = client.get(reverse("workflows:batch_new", args=["rescue"]) + f"?device={forged}", follow=True)
    assert response.status_code == 200 and "Select at least one device" in response.content.decode()


def test_a_blocked_windows_server_forced_into_a_batch_is_refused_and_nothing_is_sent(sim, linux):
    windows = Device.objects.filter(kind="virtual", os_family="windows").first()
    client = Client()
    client.force_login(OwnerFactory())
    page = confirm_page(client, "rescue", [windows, linux[0]])
    assert "no rescue kernel" in page.content.decode()

    yes(client, "rescue", page, keep=[windows.pk, linux[0].pk])  # the blocked box re-enabled by hand
    items = {item.device_id: item for item in Batch.objects.get().items.all()}
    assert "no rescue kernel" in items[windows.pk].refused and items[windows.pk].operation is None
    assert items[linux[0].pk].operation is not None
    assert not Operation.objects.filter(device=windows).exists()
