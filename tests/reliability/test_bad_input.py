"""Bad input: forged and foreign ids, GET on state-changing URLs, POST without CSRF, a replayed,
forged or stale Yes, unknown or misplaced ISO ids, a vanished device, and oversized or malformed
filters. Each is refused with a clear message or status, changes nothing, and is audited where a
state change was attempted."""

import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import User
from audit.chain import verify
from audit.models import AuditEvent
from tests.accounts.test_permission_matrix import MATRIX, POST_DATA, url_for, world  # noqa: F401 - fixture
from tests.factories import DeviceFactory
from tests.support.operations import press_yes
from workflows.models import Operation

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]
FORGED = 987654321


def snapshot() -> dict:
    """What a refused request must not change."""
    return {
        "operations": list(Operation.objects.values_list("pk", "state")),
        "users": list(User.objects.values_list("pk", "is_active").order_by("pk")),
        "grants": sorted((u.pk, tuple(u.capabilities.values_list("key", flat=True)),
                          tuple(u.roles.values_list("pk", flat=True)),
                          tuple(u.devices.values_list("pk", flat=True))) for u in User.objects.all()),
    }


def forged_url(name: str) -> str | None:
    for args in ([FORGED], [FORGED, FORGED]):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


# The JSON API takes tokens, not sessions (and so no CSRF): tests/api checks it the same way.
SESSION_PAGES = {name: expected for name, expected in MATRIX.items()
                 if not name.startswith("api:") or name in ("api:tokens", "api:revoke")}


def test_forged_ids_in_every_url_are_not_found_for_the_owner(world):  # noqa: F811
    client = Client()
    client.force_login(world["users"]["owner"])
    before, tried = snapshot(), 0
    for name in SESSION_PAGES:
        url = forged_url(name)
        if url is None:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"reason": "x", "confirmation": "x", "active": "0"},
                                               follow=name == "password_reset_confirm")
            if name == "password_reset_confirm":  # a reset link names no object: it is simply not valid
                assert "This link is not valid" in response.content.decode(), url
                continue
            assert response.status_code in (404, 405), f"{method.upper()} {url}: {response.status_code}"
            tried += 1
    assert tried >= 20 and snapshot() == before


def test_foreign_device_ids_in_every_form_change_nothing(world):  # noqa: F811
    """Someone who sees one device names another in every device URL and in the access form."""
    mine = world["device"]
    foreign = DeviceFactory(kind="virtual")
    user = world["users"]["device_no_capability"]
    client = Client()
    client.force_login(user)
    before = snapshot()
    for name in ("devices:detail", "workflows:rescue", "workflows:boot_image", "workflows:unload_image",
                 "workflows:restart", "workflows:reveal_password"):
        url = reverse(name, args=[foreign.pk])
        assert client.get(url).status_code in (404, 405) and client.post(url).status_code in (404, 405)
    assert client.post(reverse("accounts:devices", args=[user.pk]),
                       {"action": "add", "devices": [foreign.pk]}).status_code == 403
    assert snapshot() == before and mine.pk != foreign.pk


def test_get_on_state_changing_urls_is_refused_and_changes_nothing(world):  # noqa: F811
    client = Client()
    client.force_login(world["users"]["owner"])
    post_only = [name for name, expected in SESSION_PAGES.items() if expected["GET"].get("owner") == 405]
    before = snapshot()
    for name in post_only:
        assert client.get(url_for(name, world)).status_code == 405
    assert len(post_only) >= 7 and snapshot() == before


def test_post_without_csrf_is_refused_audited_and_changes_nothing(world):  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["owner"])
    before = snapshot()
    posted = [name for name, expected in SESSION_PAGES.items() if expected["POST"].get("owner") not in (405, None)
              and name not in ("login", "root")]
    for name in posted:
        response = client.post(url_for(name, world), POST_DATA.get(name, lambda w: {"reason": "x"})(world))
        assert response.status_code == 403 and "Nothing was changed" in response.content.decode(), name
    assert snapshot() == before
    assert AuditEvent.objects.filter(event="security.csrf_rejected", outcome="denied").count() == len(posted)


@pytest.fixture
def owner_client(world):  # noqa: F811
    client = Client()
    client.force_login(world["users"]["owner"])
    return client


def rescue_url(device) -> str:
    return reverse("workflows:rescue", args=[device.pk])


def test_a_replayed_yes_requests_nothing_even_after_the_first_has_finished(owner_client):
    device = DeviceFactory(kind="virtual", os_family="linux")
    page = owner_client.get(rescue_url(device)).content.decode()
    data = {"reason": "first", "confirmation": re.search(r'name="confirmation" value="([^"]+)"', page).group(1)}
    first = owner_client.post(rescue_url(device), data)
    op = Operation.objects.get(device=device)
    Operation.objects.filter(pk=op.pk).update(state="in_rescue", finished_at=timezone.now())  # it has finished

    replay = owner_client.post(rescue_url(device), data, follow=True)

    assert first.status_code == 302 and Operation.objects.filter(device=device).count() == 1
    assert "already used" in replay.content.decode()
    assert AuditEvent.objects.filter(event="device.rescue", outcome="denied", operation_id=op.pk).exists()


@pytest.mark.parametrize("token", ["", "forged", "eyJ1IjoxfQ:1abcde:tampered-signature"])
def test_a_forged_or_missing_yes_requests_nothing_and_is_audited(owner_client, token):
    device = DeviceFactory(kind="virtual", os_family="linux")
    response = owner_client.post(rescue_url(device), {"reason": "x", "confirmation": token}, follow=True)
    assert "Nothing was requested" in response.content.decode()
    assert not Operation.objects.filter(device=device).exists()
    assert AuditEvent.objects.filter(event="device.rescue", outcome="denied", device_id=device.pk).exists()


def test_a_yes_for_another_device_or_a_stale_page_requests_nothing(owner_client, settings):
    device, other = DeviceFactory(kind="virtual", os_family="linux"), DeviceFactory(kind="virtual", os_family="linux")
    other_page = owner_client.get(rescue_url(other)).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', other_page).group(1)
    moved = owner_client.post(rescue_url(device), {"confirmation": token}, follow=True)
    assert "for another device" in moved.content.decode()
    settings.CONFIRMATION_MAX_AGE_MINUTES = -1  # every page is already too old
    stale = press_yes(owner_client, rescue_url(device), follow=True)
    assert "open too long" in stale.content.decode() and not Operation.objects.filter(device=device).exists()


def test_a_yes_for_one_image_does_not_boot_another(owner_client, simulator, settings):
    """The attack found: the Yes shown for virtio-win (5005) was posted to the page of CentOS (5002)."""
    simulator.point_settings_here(settings)
    guest = DeviceFactory(kind="virtual", os_family="windows")
    shown = owner_client.get(reverse("workflows:boot_image_confirm", args=[guest.pk, 5005])).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', shown).group(1)

    moved = owner_client.post(reverse("workflows:boot_image_confirm", args=[guest.pk, 5002]),
                              {"confirmation": token}, follow=True)

    assert "Nothing was requested" in moved.content.decode() and "image" in moved.content.decode()
    assert not Operation.objects.filter(device=guest).exists()
    assert AuditEvent.objects.filter(event="device.boot_image", outcome="denied", device_id=guest.pk).exists()
    right = owner_client.post(reverse("workflows:boot_image_confirm", args=[guest.pk, 5005]), {"confirmation": token})
    assert right.status_code == 302 and Operation.objects.get(device=guest).iso_image_id == 5005


def test_iso_ids_that_do_not_fit_are_not_found(owner_client, simulator, settings):
    simulator.point_settings_here(settings)  # the list of public images is read from SoftLayer
    guest, metal = DeviceFactory(kind="virtual"), DeviceFactory(kind="bare_metal")
    for url in (reverse("workflows:boot_image_confirm", args=[guest.pk, 424242]),
                reverse("workflows:boot_image_confirm", args=[metal.pk, 5001])):
        assert owner_client.post(url, {"reason": "x"}).status_code == 404
        assert owner_client.get(url).status_code == 404
    assert owner_client.get(reverse("workflows:boot_image", args=[metal.pk])).status_code == 404
    assert not Operation.objects.filter(device__in=[guest, metal]).exists()


def test_an_operation_on_a_device_that_vanished_is_refused_with_a_reason(owner_client):
    device = DeviceFactory(kind="virtual", os_family="linux", vanished_at=timezone.now())
    response = press_yes(owner_client, rescue_url(device), follow=True)
    assert "no longer in the SoftLayer account" in response.content.decode()
    assert not Operation.objects.filter(device=device).exists()


MALFORMED = {
    "q": ["x" * 100_000, "\x00", "' OR 1=1 --", "%", "<script>alert(1)</script>", "😀" * 500],
    "page": ["-1", "0", "abc", "99999999999999999999", "1e9"],
    "per_page": ["-5", "abc", "100000"],
    "sort": ["nonexistent", "-" * 1000, "__class__"],
    "kind": ["nope", "virtual" * 1000],
    "since": ["not-a-date", "9999-99-99", "2026-02-30"],
    "until": ["yesterday"],
    "before": ["abc", "-1", "9" * 40],
    "after": ["abc"],
    "event": ["device.rescue' --"],
    "outcome": ["maybe"],
}


@pytest.mark.parametrize("name", ["devices:list", "audit:log", "audit:rescues", "audit:export_csv"])
def test_oversized_and_malformed_list_parameters_get_a_page_not_an_error(owner_client, name):
    DeviceFactory.create_batch(3)
    for key, values in MALFORMED.items():
        for value in values:
            response = owner_client.get(reverse(name), {key: value})
            assert response.status_code in (200, 400), f"{name} {key}={value[:20]!r}: {response.status_code}"
            if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                assert "<script>alert(1)</script>" not in response.content.decode()
            if response.streaming:
                b"".join(response.streaming_content)
    assert verify(AuditEvent.objects.order_by("seq")).intact


def test_an_anonymous_csrf_flood_is_counted_not_copied_row_by_row():
    """300 forged POSTs from one address in a minute: each refused, ten recorded one by one, and one
    row at the 100th saying how many (the attack found 300 rows in 2.5 s)."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.7")
    answers = {client.post(reverse("login"), {"username": "owner", "password": "x"}).status_code for _ in range(300)}

    assert answers == {403}
    rows = list(AuditEvent.objects.filter(event="security.csrf_rejected").order_by("seq"))
    assert 11 <= len(rows) <= 22  # 11; up to 22 when the minute turned during the flood
    assert {row.source_ip for row in rows} == {"198.51.100.7"}
    assert [row.detail.get("refused_this_minute_from_this_address") for row in rows].count(100) >= 1


def test_flood_rule_from_plain_counts():
    from rescueportal.errors import worth_recording

    assert [n for n in range(1, 20_001) if worth_recording(n)] == [*range(1, 11), 100, 1000, 10_000]
