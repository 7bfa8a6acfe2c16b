"""What an outside attack on the API found (each fails without its fix)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import capabilities as caps
from accounts import services as account_services
from api.models import AccessToken
from audit.models import AuditEvent
from devices.filters import DeviceFilter
from devices.models import Device
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, api_token, bearer, grant
from workflows.models import Operation

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def post(client, path, body, token, **headers):
    return client.post(path, body if isinstance(body, str) else json.dumps(body), content_type="application/json",
                       **bearer(token), **headers)


def test_a_replayed_key_is_no_password_oracle(client):
    manager = grant(UserFactory(), caps.ACCESS_ALL_GUEST, roles=["User manager"])
    target, device = UserFactory(), DeviceFactory()
    token = api_token(manager, "manage")
    path = f"/api/v1/users/{target.pk}/devices/"
    first = post(client, path, {"device_ids": [device.pk], "grant": True, "password": PASSWORD}, token,
                 HTTP_IDEMPOTENCY_KEY="oracle")
    guesses = [post(client, path, {"device_ids": [device.pk], "grant": True, "password": f"guess{n}"}, token,
                    HTTP_IDEMPOTENCY_KEY="oracle") for n in range(3)]

    assert first.status_code == 200
    assert [g.status_code for g in guesses] == [403, 403, 403]  # each checked, none replayed or compared
    assert AuditEvent.objects.filter(event="auth.reauth_failed", actor_username=manager.username).count() == 3


def test_deactivating_or_resetting_a_user_revokes_their_tokens_for_good(client):
    manager = grant(UserFactory(), roles=["User manager"])
    deactivated, reset = UserFactory(), UserFactory()
    tokens = [api_token(deactivated), api_token(reset)]
    account_services.set_active(manager, deactivated, False)
    account_services.set_active(manager, deactivated, True)
    account_services.reset_password(manager, reset)
    reset.refresh_from_db()
    reset.must_change_password = False  # they chose a new password in the browser
    reset.save()

    assert [client.get("/api/v1/me/", **bearer(t)).status_code for t in tokens] == [401, 401]
    assert AccessToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_json_nested_past_the_limit_is_a_400(client):
    device = DeviceFactory()
    token = api_token(grant(UserFactory(), caps.SERVER_RELOAD, devices=[device]), "operate")
    response = post(client, f"/api/v1/devices/{device.pk}/operations/", "[" * 5000 + "]" * 5000, token)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"


def test_the_last_day_there_is_is_no_server_error(client):
    auditor = grant(UserFactory(), roles=["Auditor"])
    response = client.get("/api/v1/audit/events/", {"until": "9999-12-31"}, **bearer(api_token(auditor)))
    assert response.status_code == 200
    client.force_login(auditor)
    assert client.get("/audit/", {"until": "9999-12-31"}).status_code == 200


def test_an_attempt_on_something_not_ones_own_is_recorded_and_rows_name_the_token(client):
    mine, theirs = DeviceFactory(), DeviceFactory()
    user = grant(UserFactory(), caps.SERVER_RELOAD, devices=[mine])
    token = api_token(user, "operate")

    refused = post(client, f"/api/v1/devices/{theirs.pk}/operations/", {"kind": "rescue"}, token)
    done = post(client, f"/api/v1/devices/{mine.pk}/operations/", {"kind": "rescue"}, token)

    assert refused.status_code == 404 and done.status_code == 201
    row = AuditEvent.objects.get(event="api.not_found")
    assert row.outcome == "denied" and row.actor_username == user.username and str(theirs.pk) in row.detail["path"]
    requested = AuditEvent.objects.get(event="device.rescue", outcome="requested")
    assert requested.detail["via"] == f"token {token[:11]}"


def test_the_location_filter_works_after_the_schema_was_made(client):
    from drf_spectacular.generators import SchemaGenerator

    SchemaGenerator().get_schema(request=None, public=True)  # as a visit to /api/docs/ does
    owner = OwnerFactory()
    DeviceFactory(hostname="here", datacenter="dal10")
    DeviceFactory(hostname="there", datacenter="fra02")
    found = client.get("/api/v1/devices/", {"datacenter": "dal10"}, **bearer(api_token(owner))).json()["results"]
    assert [d["hostname"] for d in found] == ["here"]
    assert [c for c, _ in DeviceFilter(queryset=Device.objects.all()).filters["datacenter"].field.choices][1:] == [
        "dal10", "fra02"]


def test_a_locked_out_reveal_answers_as_the_api_does(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    device = DeviceFactory(status=Device.Status.IN_RESCUE)
    user = grant(UserFactory(), caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD, devices=[device])
    token = api_token(user, "reveal")
    path = f"/api/v1/devices/{device.pk}/reveal-password/"
    for _ in range(2):
        post(client, path, {"password": "wrong"}, token)
    locked = post(client, path, {"password": PASSWORD}, token)
    assert locked.status_code == 429 and locked["Content-Type"] == "application/problem+json"
    assert int(locked["Retry-After"]) > 0 and "locked" in locked.json()["detail"]


def test_a_body_too_large_is_a_problem(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    device = DeviceFactory()
    token = api_token(grant(UserFactory(), caps.SERVER_RELOAD, devices=[device]), "operate")
    response = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue", "reason": "x" * 2000},
                    token, HTTP_IDEMPOTENCY_KEY="big")
    assert response.status_code == 413 and response["Content-Type"] == "application/problem+json"


def test_a_refusal_of_the_moment_is_tried_again_under_the_same_key(client):
    device = DeviceFactory(status=Device.Status.IN_RESCUE)
    token = api_token(grant(UserFactory(), caps.SERVER_RELOAD, devices=[device]), "operate")
    path = f"/api/v1/devices/{device.pk}/operations/"
    busy = post(client, path, {"kind": "rescue"}, token, HTTP_IDEMPOTENCY_KEY="later")
    Device.objects.filter(pk=device.pk).update(status=Device.Status.NORMAL)
    again = post(client, path, {"kind": "rescue"}, token, HTTP_IDEMPOTENCY_KEY="later")
    assert busy.status_code == 409 and again.status_code == 201 and "Idempotent-Replayed" not in again


def test_the_same_json_spaced_or_ordered_otherwise_is_the_same_request(client):
    device = DeviceFactory()
    token = api_token(grant(UserFactory(), caps.SERVER_RELOAD, devices=[device]), "operate")
    path = f"/api/v1/devices/{device.pk}/operations/"
    first = post(client, path, '{"kind": "rescue", "reason": "r"}', token, HTTP_IDEMPOTENCY_KEY="k")
    again = post(client, path, '{ "reason":"r","kind":"rescue" }', token, HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Operation.objects.count() == 1


def test_tokens_per_person_are_capped(client, settings):
    settings.API_TOKENS_PER_USER = 2
    user = UserFactory()
    client.force_login(user)
    answers = [client.post("/account/api-tokens/", {"name": f"t{n}", "days": "7"}).status_code for n in range(3)]
    assert answers == [200, 200, 400] and AccessToken.objects.filter(user=user).count() == 2
    AccessToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(days=1))
    assert client.post("/account/api-tokens/", {"name": "t4", "days": "7"}).status_code == 200  # expired ones free


def test_a_hidden_device_id_and_a_missing_one_look_the_same_in_the_operations_filter(client):
    hidden = DeviceFactory()
    token = api_token(UserFactory())
    seen = [client.get("/api/v1/operations/", {"device": d}, **bearer(token)) for d in (hidden.pk, 987654)]
    assert [r.status_code for r in seen] == [200, 200] and seen[0].json() == seen[1].json()


def test_one_title_per_kind_of_problem(client):
    device = DeviceFactory()
    viewer = grant(UserFactory(), devices=[device])
    by_service = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"},
                      api_token(viewer, "operate"))
    by_scope = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"}, api_token(viewer))
    assert by_service.status_code == by_scope.status_code == 403
    assert by_service.json()["title"] == by_scope.json()["title"] == "Not allowed"
