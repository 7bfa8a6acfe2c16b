"""The API keeps the browser's rules: the one policy, the same services and audit rows, refusals in
one shape (RFC 9457), retries made safe with Idempotency-Key, a rate per token."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import capabilities as caps
from api import jobs, services, urls
from api.models import IdempotentRequest
from audit.models import AuditEvent
from devices.models import Device
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, api_token, bearer, grant
from workflows.models import Operation

pytestmark = pytest.mark.django_db


def post(client, path, body, token, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **bearer(token), **headers)


@pytest.fixture
def operator():
    device = DeviceFactory()
    user = grant(UserFactory(), caps.SERVER_RELOAD, caps.REMOTE_MANAGEMENT, caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD,
                 devices=[device])
    return user, device, api_token(user, "operate", "reveal")


def test_a_device_outside_ones_access_is_not_found(client, operator):
    user, _, token = operator
    other = DeviceFactory()
    for response in (client.get(f"/api/v1/devices/{other.pk}/", **bearer(token)),
                     post(client, f"/api/v1/devices/{other.pk}/operations/", {"kind": "rescue"}, token)):
        assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert not other.operations.exists()
    listed = client.get("/api/v1/devices/", **bearer(token)).json()["results"]
    assert [d["id"] for d in listed] == [d.pk for d in user.devices.all()]


def test_rescue_is_requested_through_the_service_with_its_audit_row(client, operator):
    user, device, token = operator
    response = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue", "reason": "fsck"}, token)

    assert response.status_code == 201, response.content
    op = Operation.objects.get(pk=response.json()["id"])
    assert op.kind == "rescue" and op.requested_by == user and op.reason == "fsck"
    assert response["Location"].endswith(f"/api/v1/operations/{op.pk}/")
    row = AuditEvent.objects.get(event="device.rescue", outcome="requested")
    assert row.actor_username == user.username and row.operation_id == op.pk and row.request_id
    device.refresh_from_db()
    assert device.status == Device.Status.RESCUE_IN_PROGRESS


def test_without_the_capability_the_refusal_is_a_403_and_a_denied_row(client):
    device = DeviceFactory()
    viewer = grant(UserFactory(), devices=[device])
    token = api_token(viewer, "operate")

    response = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"}, token)

    assert response.status_code == 403 and response.json()["title"] == "Not allowed"
    assert AuditEvent.objects.filter(event="device.rescue", outcome="denied", actor_username=viewer.username).exists()
    assert not device.operations.exists()


def test_the_state_refuses_with_409_and_what_to_do(client, operator):
    _, device, token = operator
    Device.objects.filter(pk=device.pk).update(status=Device.Status.IN_RESCUE)
    response = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"}, token)
    body = response.json()
    assert response.status_code == 409 and "already in rescue mode" in body["detail"]
    assert body["type"].endswith("/conflict") and body["instance"] == f"/api/v1/devices/{device.pk}/operations/"


@pytest.mark.parametrize("body,field", [({"kind": "format_disk"}, "kind"), ({}, "kind"),
                                        ({"kind": "rescue", "time_limit_minutes": "soon"}, "time_limit_minutes"),
                                        ({"kind": "rescue", "reason": "x" * 501}, "reason")])
def test_invalid_fields_are_named(client, operator, body, field):
    _, device, token = operator
    response = post(client, f"/api/v1/devices/{device.pk}/operations/", body, token)
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not device.operations.exists()


def test_a_time_limit_not_offered_is_refused_and_recorded(client, operator):
    _, device, token = operator
    response = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue", "time_limit_minutes": 7},
                    token)
    assert response.status_code == 400 and "time limits" in response.json()["detail"]
    assert AuditEvent.objects.filter(event="device.rescue", outcome="denied").exists()


def test_a_replayed_idempotency_key_answers_the_same_operation_and_requests_nothing_new(client, operator):
    _, device, token = operator
    body = {"kind": "rescue", "reason": "retry me"}
    first = post(client, f"/api/v1/devices/{device.pk}/operations/", body, token, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(client, f"/api/v1/devices/{device.pk}/operations/", body, token, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert device.operations.count() == 1
    assert AuditEvent.objects.filter(event="device.rescue", outcome="requested").count() == 1


def test_the_same_key_with_another_body_is_refused(client, operator):
    _, device, token = operator
    post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"}, token, HTTP_IDEMPOTENCY_KEY="k-2")
    other = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "restart"}, token,
                 HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    assert device.operations.count() == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "é"])
def test_a_malformed_key_is_refused(client, operator, key):
    _, device, token = operator
    response = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"}, token,
                    HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    assert not device.operations.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_makes_one_operation():
    device = DeviceFactory()
    user = grant(UserFactory(), caps.SERVER_RELOAD, devices=[device])
    token = api_token(user, "operate")
    answers, start = [], threading.Barrier(4)

    def send():
        start.wait()
        try:
            answers.append(post(Client(), f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"}, token,
                                HTTP_IDEMPOTENCY_KEY="same").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert device.operations.count() == 1
    assert sorted(answers) and set(answers) <= {201, 409} and answers.count(201) >= 1


def test_past_the_rate_a_token_waits(client, operator, settings):
    settings.API_RATE = "3/minute"
    _, _, token = operator
    other = api_token(UserFactory())
    statuses = [client.get("/api/v1/me/", **bearer(token)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/me/", **bearer(token))
    assert limited["Retry-After"] and "Try again in" in limited.json()["detail"]
    assert client.get("/api/v1/me/", **bearer(other)).status_code == 200  # per token, not for everyone


def test_an_unknown_api_path_is_a_problem_not_a_page(client):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["detail"].startswith("There is no such API path")


def test_the_api_takes_no_session(client, operator):
    user, _, _ = operator
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 401


def test_reveal_needs_the_password_each_time_and_records_a_wrong_one(client, operator):
    _, device, token = operator
    Device.objects.filter(pk=device.pk).update(status=Device.Status.IN_RESCUE)
    path = f"/api/v1/devices/{device.pk}/reveal-password/"

    missing = post(client, path, {}, token)
    wrong = post(client, path, {"password": "not it"}, token)

    assert missing.status_code == 403 and "password" in missing.json()["detail"]
    assert wrong.status_code == 403 and wrong.json()["detail"] == "That is not your password."
    assert AuditEvent.objects.filter(event="user.step_up", outcome="denied").exists()
    assert AuditEvent.objects.filter(event="auth.reauth_failed", outcome="failed").exists()


def test_reveal_outside_rescue_is_refused_before_any_password(client, operator):
    _, device, token = operator
    response = post(client, f"/api/v1/devices/{device.pk}/reveal-password/", {"password": "x"}, token)
    assert response.status_code == 409 and "only while the device is in rescue" in response.json()["detail"]
    assert not AuditEvent.objects.filter(event="auth.reauth_failed").exists()


def test_the_trail_is_for_reviewers_and_a_refusal_is_recorded(client):
    auditor, viewer = grant(UserFactory(), roles=["Auditor"]), UserFactory()
    assert client.get("/api/v1/audit/events/", **bearer(api_token(auditor))).status_code == 200
    refused = client.get("/api/v1/audit/events/", **bearer(api_token(viewer)))
    assert refused.status_code == 403 and "View Event Log" in refused.json()["detail"]
    assert AuditEvent.objects.filter(event="audit.view", outcome="denied", actor_username=viewer.username).exists()


def test_a_manager_changes_roles_with_the_manage_scope_and_their_password(client):
    manager = grant(UserFactory(), roles=["User manager"])
    target = UserFactory()
    path = f"/api/v1/users/{target.pk}/roles/"
    read_only = api_token(manager)
    managing = api_token(manager, "manage")

    scoped = client.put(path, json.dumps({"roles": ["Viewer"]}), content_type="application/json", **bearer(read_only))
    unproved = client.put(path, json.dumps({"roles": ["Viewer"]}), content_type="application/json",
                          **bearer(managing))
    done = client.put(path, json.dumps({"roles": ["Viewer"], "password": "correct horse battery staple"}),
                      content_type="application/json", **bearer(managing))

    assert scoped.status_code == 403 and unproved.status_code == 403
    assert done.status_code == 200, done.content
    assert done.json()["roles"] == ["Viewer"]
    assert list(target.roles.values_list("name", flat=True)) == ["Viewer"]
    assert AuditEvent.objects.filter(event="user.role.grant", outcome="succeeded").exists()


def test_the_owner_cannot_be_changed_through_the_api_either(client):
    manager = grant(UserFactory(), roles=["User manager"])
    owner = OwnerFactory()
    response = client.put(f"/api/v1/users/{owner.pk}/roles/", json.dumps({"roles": [], "password": "correct horse "
                                                                          "battery staple"}),
                          content_type="application/json", **bearer(api_token(manager, "manage")))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(outcome="denied", actor_username=manager.username).exists()


def test_forged_ids_in_every_api_path_are_not_found_and_change_nothing(client):
    token = api_token(OwnerFactory(), "operate", "reveal", "manage")
    forged = [reverse(f"api:{p.name}", args=[987654321]) for p in urls.urlpatterns if "<int:pk>" in str(p.pattern)
              and p.name != "revoke"]
    before = (Operation.objects.count(), AuditEvent.objects.exclude(event__startswith="api.").count())
    attempts = 0
    for path in forged:
        body = json.dumps({"kind": "rescue", "minutes": 30, "reason": "x", "roles": [], "device_ids": [1],
                           "grant": True, "password": "x"})
        for method in ("post", "put"):
            response = getattr(client, method)(path, body, content_type="application/json", **bearer(token))
            assert response.status_code in (404, 405), f"{method.upper()} {path}: {response.status_code}"
            attempts += response.status_code == 404
        for method in ("get",):
            response = client.get(path, **bearer(token))
            assert response.status_code in (404, 405), f"{method.upper()} {path}: {response.status_code}"
    assert len(forged) >= 10
    assert (Operation.objects.count(), AuditEvent.objects.exclude(event__startswith="api.").count()) == before
    assert AuditEvent.objects.filter(event="api.not_found", outcome="denied").count() == attempts >= 7


def test_a_claim_left_by_a_dead_process_is_taken_over_after_a_while(client, operator, settings):
    user, device, token = operator
    path = f"/api/v1/devices/{device.pk}/operations/"
    body = json.dumps({"kind": "rescue"}).encode()
    IdempotentRequest.objects.create(user=user, key="k-dead", started_at=timezone.now(),
                                     fingerprint=services.fingerprint("POST", path, body))
    waiting = client.post(path, body, content_type="application/json", **bearer(token), HTTP_IDEMPOTENCY_KEY="k-dead")
    IdempotentRequest.objects.filter(key="k-dead").update(
        started_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS + 1))
    taken_over = client.post(path, body, content_type="application/json", **bearer(token),
                             HTTP_IDEMPOTENCY_KEY="k-dead")

    assert waiting.status_code == 409 and "still being answered" in waiting.json()["detail"]
    assert taken_over.status_code == 201 and device.operations.count() == 1


def test_a_retry_after_the_answer_was_lost_finds_the_operation_the_first_made(client, operator):
    """The first try made the operation but died before keeping its answer: the retry, once the
    claim is stale, answers that operation instead of asking twice."""
    _, device, token = operator
    path = f"/api/v1/devices/{device.pk}/operations/"
    first = post(client, path, {"kind": "rescue"}, token, HTTP_IDEMPOTENCY_KEY="k-lost")
    IdempotentRequest.objects.filter(key="k-lost").update(status_code=None, body=None,
                                                          started_at=timezone.now() - timedelta(hours=1))
    retry = post(client, path, {"kind": "rescue"}, token, HTTP_IDEMPOTENCY_KEY="k-lost")

    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert device.operations.count() == 1


def test_keys_are_forgotten_after_a_day(operator):
    user, _, _ = operator
    IdempotentRequest.objects.create(user=user, key="old", fingerprint="x", started_at=timezone.now() - timedelta(
        hours=25))
    IdempotentRequest.objects.create(user=user, key="new", fingerprint="x", started_at=timezone.now())
    assert jobs.forget_old_keys() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]


def test_two_people_may_use_the_same_key(client, operator):
    _, device, token = operator
    other_device = DeviceFactory()
    other = grant(UserFactory(), caps.SERVER_RELOAD, devices=[other_device])
    mine = post(client, f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"}, token,
                HTTP_IDEMPOTENCY_KEY="shared")
    theirs = post(client, f"/api/v1/devices/{other_device.pk}/operations/", {"kind": "rescue"},
                  api_token(other, "operate"), HTTP_IDEMPOTENCY_KEY="shared")
    assert mine.status_code == theirs.status_code == 201 and mine.json()["id"] != theirs.json()["id"]
