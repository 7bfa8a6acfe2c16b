"""Issue 19's stumbles, each with a test that failed before its fix."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import capabilities as caps
from audit.services import record
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, grant
from workflows.models import Operation

pytestmark = pytest.mark.django_db


def test_get_on_a_button_only_address_is_the_portals_page(owner_client):
    device = DeviceFactory()
    response = owner_client.get(reverse("workflows:reveal_password", args=[device.pk]))
    html = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "only when its button is pressed" in html and "Back to the Device List" in html


def test_users_with_whole_kinds_read_so_not_zero_devices(client):
    manager = grant(UserFactory(), roles=["User manager"])
    full = grant(UserFactory(), caps.ACCESS_ALL_GUEST, caps.ACCESS_ALL_HARDWARE)
    some = grant(UserFactory(), devices=[DeviceFactory()])
    client.force_login(manager)
    full_page = client.get(reverse("accounts:detail", args=[full.pk])).content.decode()
    some_page = client.get(reverse("accounts:detail", args=[some.pk])).content.decode()
    assert "Has access to all virtual servers and all bare metal servers" in full_page
    assert "Has access to (0)" not in full_page and "Has access to (1)" in some_page


def test_who_matches_the_start_of_a_username(client):
    owner = OwnerFactory()
    auditor = grant(UserFactory(), roles=["Auditor"])
    record("device.rescue", "requested", actor=owner)
    client.force_login(auditor)
    page = client.get(reverse("audit:log"), {"actor": "own"}).content.decode()
    assert "device.rescue" in page and "owner" in page


def test_the_estimate_says_whose_average_it_is(owner_client):
    device = DeviceFactory()
    op = Operation.objects.create(device=device, requested_by=OwnerFactory(), kind="rescue", state="booting",
                                  provider_estimate_seconds=216, submitted_at=timezone.now(),
                                  deadline_at=timezone.now() + timedelta(hours=1))
    page = owner_client.get(reverse("workflows:operation", args=[op.pk])).content.decode()
    assert "SoftLayer's real-world average" in page


def in_rescue(kind: str = "rescue", state: str = "in_rescue") -> Operation:
    device = DeviceFactory(kind="virtual", os_family="linux", status="in_rescue", public_ip="198.51.100.7")
    return Operation.objects.create(device=device, requested_by=OwnerFactory(), kind=kind, state=state,
                                    submitted_at=timezone.now(), finished_at=timezone.now(),
                                    deadline_at=timezone.now() + timedelta(hours=1))


def test_the_operation_page_shows_where_to_connect_with_copy_buttons(owner_client):
    op = in_rescue()
    page = owner_client.get(reverse("workflows:operation", args=[op.pk])).content.decode()
    assert "In rescue mode: how to connect" in page and "ssh root@198.51.100.7" in page
    assert 'data-copy="#connect-command"' in page and 'data-copy="#connect-address"' in page
    assert "see how to connect on" not in page
    device_page = reverse("devices:detail", args=[op.device_id])
    assert f"on <a href=\"{device_page}\">the device's page</a>, Actions" in page  # no Actions menu here


def test_a_restart_page_does_not_offer_the_rescue_it_ends(owner_client):
    op = in_rescue(kind="restart", state="powering_down")
    page = owner_client.get(reverse("workflows:operation", args=[op.pk])).content.decode()
    assert "how to connect" not in page


def test_the_poll_that_first_sees_rescue_fills_the_connection_slot_and_takes_focus(owner_client):
    op = in_rescue()
    url = reverse("workflows:operation_progress", args=[op.pk])
    first = owner_client.get(url, HTTP_X_PORTAL_POLL="1", HTTP_X_PORTAL_SEEN="booting").content.decode()
    later = owner_client.get(url, HTTP_X_PORTAL_POLL="1").content.decode()
    assert 'id="connect-slot" hx-swap-oob="true"' in first and "ssh root@198.51.100.7" in first
    assert "data-take-focus" in first and '<ul id="messages" hx-swap-oob="delete">' in first
    assert "connect-slot" not in later and "data-take-focus" not in later  # a session's later polls leave it be


def test_the_pager_offers_page_numbers_with_the_first_and_the_last(owner_client):
    DeviceFactory.create_batch(25 * 12, datacenter="dal10")  # 12 pages of 25
    page = owner_client.get(reverse("devices:list"), {"page": 6}).content.decode()
    pager = page[page.index('class="pager"'):]
    numbers = re.findall(r'<span class="visually-hidden">Page </span>(\d+)', pager)
    assert numbers == ["1", "4", "5", "6", "7", "8", "12"]
    assert re.search(r'aria-current="page"[^>]*><span class="visually-hidden">Page </span>6<', pager)
    assert "…" in pager and "page=12" in pager




def test_requested_is_not_shown_above_an_operation_that_already_ended(owner_client):
    """The Yes redirects to the operation's page; if it failed meanwhile, only the failure is shown."""
    from workflows import services

    device = DeviceFactory(kind="virtual", os_family="linux")
    url = reverse("workflows:rescue", args=[device.pk])
    nonce = re.search(r'name="confirmation" value="([^"]+)"', owner_client.get(url).content.decode()).group(1)
    answer = owner_client.post(url, {"confirmation": nonce, "reason": "fsck"})
    op = Operation.objects.get(device=device)
    services.fail(op, "SoftLayer refused it.")

    page = owner_client.get(answer["Location"]).content.decode()
    assert "SoftLayer refused it." in page and "Rescue mode requested" not in page


def test_a_managers_own_page_is_read_only_and_says_why_once(client):
    manager = grant(UserFactory(), roles=["User manager"], devices=[DeviceFactory()])
    other = grant(UserFactory())
    client.force_login(manager)
    own = client.get(reverse("accounts:detail", args=[manager.pk])).content.decode()
    assert own.count("Read-only: You cannot change your own permissions") == 1
    for button in ("Save permissions", "Save roles", "Grant access", "Remove access", "Deactivate"):
        assert button not in own, button
    others = client.get(reverse("accounts:detail", args=[other.pk])).content.decode()
    assert "Save permissions" in others and 'id="read-only"' not in others


def test_a_refusal_says_why_who_can_help_and_the_way_back_that_fits(client):
    device = DeviceFactory(kind="virtual", fqdn="web1.example.com")
    OwnerFactory(username="olivia")
    viewer = grant(UserFactory(), devices=[device])
    manager = grant(UserFactory(), roles=["User manager"])

    client.force_login(viewer)
    refused = client.get(reverse("workflows:rescue", args=[device.pk]))
    page = refused.content.decode()
    assert refused.status_code == 403 and "You need the OS Reloads and Rescue Kernel permission" in page
    assert "ask the account owner (olivia)" in page
    assert f'href="{reverse("devices:detail", args=[device.pk])}">Back to web1.example.com<' in page
    page = client.get(reverse("audit:rescues")).content.decode()
    assert ">Back to the Device List<" in page

    client.force_login(manager)
    own = client.post(reverse("accounts:capabilities", args=[manager.pk]), {"capabilities": []})
    assert own.status_code == 403 and ">Back to Manage Users<" in own.content.decode()
