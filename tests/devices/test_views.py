"""The Device List and device page, as a logged-in user sees them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_rq import get_queue

from devices.models import Device
from tests.factories import DeviceFactory, UserFactory, grant

pytestmark = pytest.mark.django_db
LIST = reverse("devices:list")


def names(response) -> list[str]:
    return [row.record.fqdn for row in response.context["table"].page.object_list]


def test_login_required(client):
    DeviceFactory()
    for url in (LIST, reverse("devices:detail", args=[1])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_login_with_username_and_password(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "correct horse battery staple"},
                           follow=True)
    assert response.request["PATH_INFO"] == LIST
    assert b"Device List" in response.content


def test_list_shows_the_console_columns(owner_client):
    DeviceFactory(hostname="web1", kind="bare_metal", datacenter="fra02", os_name="CentOS 7.9-64", memory_mb=65536,
                  public_ip="169.1.2.3", private_ip="10.1.2.3", power_state="off", status="in_rescue")

    html = owner_client.get(LIST).content.decode()

    for text in ("web1.example.com", "Bare metal", "fra02", "169.1.2.3", "10.1.2.3", "CentOS 7.9-64", "64 GB",
                 "Halted", "In rescue"):
        assert text in html
    for header in ("Name", "Type", "Location", "Public IP", "Private IP", "OS", "Memory", "Power", "Status"):
        assert f">{header}<" in html


def test_search_by_name_ip_and_os(owner_client):
    DeviceFactory(hostname="db-primary", public_ip="158.1.1.1", os_name="Rocky Linux 9")
    DeviceFactory(hostname="web-01", public_ip="169.9.9.9", os_name="Windows Server 2022")

    assert names(owner_client.get(LIST, {"q": "db-pri"})) == ["db-primary.example.com"]
    assert names(owner_client.get(LIST, {"q": "169.9"})) == ["web-01.example.com"]
    assert names(owner_client.get(LIST, {"q": "windows"})) == ["web-01.example.com"]


def test_filters_combine(owner_client):
    DeviceFactory(hostname="a", kind="virtual", os_family="linux", datacenter="dal10", power_state="on")
    DeviceFactory(hostname="b", kind="bare_metal", os_family="windows", datacenter="dal10", power_state="off")
    DeviceFactory(hostname="c", kind="virtual", os_family="windows", datacenter="fra02", power_state="on",
                  status="failed")

    assert names(owner_client.get(LIST, {"kind": "bare_metal"})) == ["b.example.com"]
    assert names(owner_client.get(LIST, {"os_family": "windows", "datacenter": "dal10"})) == ["b.example.com"]
    assert names(owner_client.get(LIST, {"power_state": "on"})) == ["a.example.com", "c.example.com"]
    assert names(owner_client.get(LIST, {"status": "failed"})) == ["c.example.com"]


def test_sort_by_memory_both_ways(owner_client):
    for host, memory in (("small", 1024), ("big", 65536), ("mid", 8192)):
        DeviceFactory(hostname=host, memory_mb=memory)

    assert names(owner_client.get(LIST, {"sort": "memory_mb"})) == [
        "small.example.com", "mid.example.com", "big.example.com"]
    assert names(owner_client.get(LIST, {"sort": "-memory_mb"}))[0] == "big.example.com"


def test_pagination_and_page_size(owner_client):
    DeviceFactory.create_batch(60)

    first, third = owner_client.get(LIST), owner_client.get(LIST, {"page": 3})
    assert len(names(first)) == 25 and len(names(third)) == 10
    assert set(names(first)).isdisjoint(names(third))
    assert len(names(owner_client.get(LIST, {"per_page": 50}))) == 50
    assert len(names(owner_client.get(LIST, {"per_page": 100000}))) == 25  # not a choice: the default
    assert owner_client.get(LIST, {"page": 99}).status_code in (200, 404)


def test_bad_filter_values_get_a_message_not_an_error(owner_client):
    DeviceFactory(hostname="kept")
    response = owner_client.get(LIST, {"kind": "spaceship", "q": "x" * 500, "per_page": "many", "sort": "nope"})
    assert response.status_code == 200
    assert "Some filters were not understood" in response.content.decode()


def test_vanished_devices_leave_the_list(owner_client):
    DeviceFactory(hostname="here")
    DeviceFactory(hostname="gone", vanished_at="2026-01-01T00:00:00Z")
    assert names(owner_client.get(LIST)) == ["here.example.com"]


def test_htmx_request_gets_only_the_results(owner_client):
    DeviceFactory(hostname="one")
    response = owner_client.get(LIST, {"q": "one"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="results"' in html and "<html" not in html and "one.example.com" in html


def test_list_queries_do_not_grow_with_the_inventory(owner_client):
    DeviceFactory.create_batch(50)
    owner_client.get(LIST)  # warm the session
    with CaptureQueriesContext(connection) as at_50:
        owner_client.get(LIST, {"sort": "-memory_mb", "kind": "virtual"})
    Device.objects.bulk_create(DeviceFactory.build_batch(1950))
    with CaptureQueriesContext(connection) as at_2000:
        response = owner_client.get(LIST, {"sort": "-memory_mb", "kind": "virtual"})

    assert response.context["table"].page.paginator.count == 2000
    assert len(at_2000) == len(at_50) <= 8


def test_detail_page_shows_the_device(owner_client, simulator, settings):
    simulator.point_settings_here(settings)
    guest = simulator.client().call("Account", "getVirtualGuests", limit=1, mask="mask[id,powerState]")[0]
    device = DeviceFactory(provider_id=guest["id"], hostname="app7", memory_mb=4096, datacenter="dal13",
                           datacenter_long_name="Dallas 13", power_state="unknown")

    simulator.reset()
    response = owner_client.get(reverse("devices:detail", args=[device.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("app7.example.com", "Dallas 13", device.public_ip, device.private_ip, "4 GB", "CentOS 5"):
        assert text in html
    assert simulator.total_calls() == 0  # the page does not wait on SoftLayer
    power = owner_client.get(reverse("devices:power", args=[device.pk]))  # the page then asks for it
    live = "on" if guest["powerState"]["keyName"] == "RUNNING" else "off"
    device.refresh_from_db()
    assert device.power_state == live and simulator.total_calls() == 1
    assert ("Running" if live == "on" else "Halted") in power.content.decode()
    # The Actions menu, as the console's: the owner may use every item.
    assert html.count('data-permitted="yes"') == 3
    for name in ("rescue", "boot_image", "restart"):
        assert reverse(f"workflows:{name}", args=[device.pk]) in html


def test_detail_page_still_loads_when_the_provider_is_down(owner_client, settings):
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"
    settings.SOFTLAYER_RETRY_ATTEMPTS = 1
    device = DeviceFactory(hostname="offline-check", power_state="on")

    html = owner_client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    power = owner_client.get(reverse("devices:power", args=[device.pk])).content.decode()

    assert "offline-check.example.com" in html and "Could not read the live power state" in power


def test_detail_rescue_environment_follows_the_seed_rule(owner_client, settings):
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"
    settings.SOFTLAYER_RETRY_ATTEMPTS = 1
    cases = [(dict(memory_mb=6144), "CentOS 7 or later"), (dict(memory_mb=6143), "CentOS 5"),
             (dict(os_family="windows"), "WindowsRescueStandalone.iso"),
             (dict(kind="bare_metal", memory_mb=1024), "rescue kernel for the server")]
    for fields, expected in cases:
        device = DeviceFactory(**fields)
        assert expected in owner_client.get(reverse("devices:detail", args=[device.pk])).content.decode()


def test_unknown_device_is_404(owner_client):
    assert owner_client.get(reverse("devices:detail", args=[987654])).status_code == 404


def test_vanished_device_page_says_so(owner_client):
    device = DeviceFactory(vanished_at="2026-01-01T00:00:00Z")
    html = owner_client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "no longer in the SoftLayer account" in html


def test_sync_now_needs_post_and_enqueues_on_commit(owner_client, django_capture_on_commit_callbacks):
    queue = get_queue("default")
    queue.empty()
    assert owner_client.get(reverse("devices:sync")).status_code == 405
    assert queue.jobs == []
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("devices:sync"), follow=True)
    assert "Inventory sync started" in response.content.decode()
    assert [job.func_name for job in queue.jobs] == ["devices.jobs.sync_devices_job"]


def test_sync_now_is_refused_and_audited_for_a_viewer(client, django_capture_on_commit_callbacks):
    """A viewer with two devices cannot make the portal list every device of the account."""
    from audit.models import AuditEvent
    from tests.factories import UserFactory, grant

    viewer = grant(UserFactory(), devices=[DeviceFactory(), DeviceFactory()])
    client.force_login(viewer)
    queue = get_queue("default")
    queue.empty()
    assert "Sync now" not in client.get(reverse("devices:list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("devices:sync"))
    assert response.status_code == 403 and queue.jobs == []
    assert AuditEvent.objects.filter(event="inventory.sync", outcome="denied", actor=viewer).count() == 1


def test_sync_now_runs_once_a_minute_whoever_asks(owner_client, django_capture_on_commit_callbacks):
    from audit.models import AuditEvent

    queue = get_queue("default")
    queue.empty()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("devices:sync"))
        again = owner_client.post(reverse("devices:sync"), follow=True)
    assert "less than 60 seconds ago" in again.content.decode()
    assert len(queue.jobs) == 1  # the second press enqueued nothing
    assert AuditEvent.objects.filter(event="inventory.sync", outcome="requested").count() == 1


def test_a_viewer_is_offered_only_the_locations_of_their_devices(client):
    mine = [DeviceFactory(datacenter="dal10", datacenter_long_name="Dallas 10"),
            DeviceFactory(datacenter="fra02", datacenter_long_name="Frankfurt 2")]
    DeviceFactory(datacenter="sao01", datacenter_long_name="Sao Paulo 1")  # the account's, not theirs
    client.force_login(grant(UserFactory(), devices=mine))

    page = client.get(reverse("devices:list")).content.decode()

    assert "Dallas 10" in page and "Frankfurt 2" in page
    assert "sao01" not in page and "Sao Paulo 1" not in page
    forged = client.get(reverse("devices:list"), {"datacenter": "sao01"}).content.decode()
    assert "Sao Paulo 1" not in forged  # the forged location lists nothing of it


def test_the_device_page_asks_the_policy_about_the_device_once(client, settings):
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"
    device = DeviceFactory()
    client.force_login(grant(UserFactory(), devices=[device], roles=["Operator"]))
    client.get(reverse("devices:detail", args=[device.pk]))  # warm the session
    with CaptureQueriesContext(connection) as page:
        assert client.get(reverse("devices:detail", args=[device.pk])).status_code == 200
    visibility = [q["sql"] for q in page.captured_queries if 'INNER JOIN "accounts_user_devices"' in q["sql"]]
    # one to open the page (404 if not visible) and one for all the actions it offers, not one per action
    assert 1 <= len(visibility) <= 2, visibility


def test_the_list_says_when_the_sync_it_asked_for_has_finished(owner_client, sim, django_capture_on_commit_callbacks):
    from devices.services import sync_devices

    get_queue("default").empty()
    with django_capture_on_commit_callbacks(execute=True):
        page = owner_client.post(reverse("devices:sync"), follow=True).content.decode()
    status_url = reverse("devices:sync_status")
    assert "Syncing from SoftLayer…" in page and f'hx-get="{status_url}"' in page  # watched, not "within a minute"
    assert "Syncing from SoftLayer…" in owner_client.get(status_url).content.decode()

    sync_devices()  # what the worker's job runs

    done = owner_client.get(status_url)
    assert "Synced from SoftLayer just now: 30 new" in done.content.decode()
    assert done["HX-Trigger"] == "inventory-synced"  # the list fetches its rows again
    later = owner_client.get(status_url)
    assert "HX-Trigger" not in later and "hx-get" not in later.content.decode()


def test_a_sync_is_answered_by_a_run_that_started_after_it_was_asked_for():
    from datetime import datetime, timedelta

    from devices.models import InventorySync
    from devices.selectors import sync_decision

    asked = datetime(2026, 11, 24, 12, 0)
    before = InventorySync(started_at=asked - timedelta(seconds=5), finished_at=asked)
    after = InventorySync(started_at=asked + timedelta(seconds=1), finished_at=asked + timedelta(seconds=9))
    assert sync_decision(before, asked, asked + timedelta(seconds=30)).waiting
    assert sync_decision(after, asked, asked + timedelta(seconds=30)).just_finished
    assert sync_decision(before, asked, asked + timedelta(minutes=11)).overdue
    assert not sync_decision(before, None, asked).waiting
