"""Notifications end to end: a real worker sends signed webhooks to a real local HTTP receiver
and mail to a real local SMTP server (aiosmtpd, its own process); failures are retried by RQ and
never touch the operation."""

import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from devices.models import Device
from devices.services import sync_devices
from notifications import services as notify
from notifications.models import Delivery, Notice, Webhook
from notifications.payloads import SIGNATURE_HEADER, verify
from tests.factories import OwnerFactory, UserFactory, grant
from tests.support.operations import wait_for
from tests.support.processes import start_worker, stop
from tests.support.receivers import SmtpServer, WebhookReceiver
from workflows import services
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def notifying_worker(transactional_db, sim, tmp_path, smtp):
    """A worker that mails through the local SMTP server and retries deliveries after 1 s."""
    process = start_worker(tmp_path / "worker.log", EMAIL_URL=smtp.url, NOTIFY_RETRY_SECONDS="1,1",
                           NOTIFY_TIMEOUT_SECONDS="2", PORTAL_URL="https://rescue.example.com")
    yield process
    stop(process)


@pytest.fixture
def guest(sim):
    sync_devices()
    return Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()


def wait_until(condition, timeout: float = 60, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_a_finished_rescue_reaches_the_webhook_signed_and_the_requester_by_mail(
        sim, guest, receiver, smtp, notifying_worker):
    owner = OwnerFactory(email="owner@example.com")
    hook = notify.create_webhook(owner, "ops", receiver.url, ["operation.succeeded", "operation.failed"], False)
    op = wait_for(services.request_operation(owner, guest, "rescue", reason="disk full"), "in_rescue")

    request = wait_until(lambda: receiver.requests, what="the webhook")[0]
    body = json.loads(request["body"])
    assert body["event"] == "operation.succeeded" and body["operation_id"] == op.pk
    assert body["device"] == guest.fqdn and body["url"] == f"https://rescue.example.com/operations/{op.pk}/"
    assert verify(hook.secret, request["headers"][SIGNATURE_HEADER], request["body"], now=time.time())
    mail = wait_until(smtp.messages, what="the mail")[0]
    assert mail["To"] == "owner@example.com" and guest.fqdn in mail["Subject"]
    assert "disk full" in mail.get_content() and f"/operations/{op.pk}/" in mail.get_content()
    delivery = Delivery.objects.get(webhook=hook)
    assert delivery.status == "sent" and delivery.response_code == 200 and delivery.attempts == 1
    assert len(receiver.requests) == 1  # one event chosen happened once


def test_a_failing_endpoint_is_retried_and_never_holds_the_operation(sim, guest, receiver, smtp, notifying_worker):
    receiver.statuses = [500, 503]  # then 200
    owner = OwnerFactory()
    hook = notify.create_webhook(owner, "flaky", receiver.url, ["operation.succeeded"], slack_format=True)
    wait_for(services.request_operation(owner, guest, "rescue"), "in_rescue")

    delivery = wait_until(lambda: Delivery.objects.filter(webhook=hook, status="sent").first(), what="sent at last")
    assert delivery.attempts == 3 and [r["status"] for r in receiver.requests] == [500, 503, 200]
    assert json.loads(receiver.requests[-1]["body"])["text"].startswith("*An operation finished*")

    owner_client = Client()
    owner_client.force_login(owner)
    page = owner_client.get(reverse("notifications:webhook", args=[hook.pk])).content.decode()
    assert "Sent" in page and "200" in page


def test_an_endpoint_that_never_answers_fails_for_good_and_is_logged(sim, guest, notifying_worker):
    owner = OwnerFactory()
    hook = notify.create_webhook(owner, "gone", "http://127.0.0.1:9/hook", ["operation.succeeded"], False)
    op = wait_for(services.request_operation(owner, guest, "rescue"), "in_rescue")
    assert op.state == "in_rescue"  # the operation did not wait for the endpoint

    delivery = wait_until(lambda: Delivery.objects.filter(webhook=hook, status="failed").first(), what="given up")
    assert delivery.attempts == 3 and "could not be reached" in delivery.error


def test_send_test_from_the_webhook_page(receiver, notifying_worker):
    owner = OwnerFactory()
    client = Client()
    client.force_login(owner)
    response = client.post(reverse("notifications:webhooks"), {
        "name": "chat", "url": receiver.url, "events": ["session.reminder"]}, follow=True)
    hook_page = response.content.decode()
    assert "Signing secret" in hook_page
    hook = Webhook.objects.get()

    client.post(reverse("notifications:webhook_test", args=[hook.pk]))
    request = wait_until(lambda: receiver.requests, what="the test")[0]
    assert json.loads(request["body"])["test"] is True and request["headers"]["X-Rescue-Portal-Event"] == "test"
    assert AuditEvent.objects.filter(event="webhook.test", actor_id=owner.pk).exists()
    assert AuditEvent.objects.filter(event="webhook.create", outcome="succeeded").exists()


def test_people_get_only_what_they_chose(sim, guest, smtp, notifying_worker):
    owner = OwnerFactory(email="owner@example.com")
    watcher = grant(UserFactory(email="watcher@example.com"), devices=[guest])
    quiet = grant(UserFactory(email="quiet@example.com"), devices=[guest])
    notify.set_preferences(owner, [], every_device=False)  # the requester opted out of everything
    notify.set_preferences(watcher, ["operation.succeeded"], every_device=True)
    notify.set_preferences(quiet, ["operation.failed"], every_device=True)

    wait_for(services.request_operation(owner, guest, "rescue"), "in_rescue")
    wait_until(lambda: Delivery.objects.filter(status="sent").exists(), what="a mail")
    time.sleep(1)  # anything else would have been sent by now
    assert [m["To"] for m in smtp.messages()] == ["watcher@example.com"]


def test_news_kept_while_redis_was_away_is_sent_by_the_sweep(sim, guest, receiver, notifying_worker):
    owner = OwnerFactory()
    notify.create_webhook(owner, "ops", receiver.url, ["operation.failed"], False)
    op = services.request_operation(owner, guest, "rescue")
    wait_for(op, "in_rescue")
    notice = Notice.objects.create(event="operation.failed", operation=op)  # as if its dispatch was never enqueued
    Notice.objects.filter(pk=notice.pk).update(created_at=notice.created_at.replace(year=2000))

    assert notify.sweep()["notices"] == 1
    wait_until(lambda: receiver.requests, what="the swept notice")
    assert Operation.objects.get(pk=op.pk).state == "in_rescue"


def test_only_the_owner_configures_webhooks(client):
    manager = grant(UserFactory(), roles=["User manager"])
    client.force_login(manager)
    response = client.post(reverse("notifications:webhooks"), {"name": "x", "url": "https://evil.example/",
                                                                "events": ["operation.failed"]})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(event="webhook.create", outcome="denied", actor_id=manager.pk).exists()
    assert not Webhook.objects.exists()


def test_a_webhook_address_is_kept_in_the_audit_trail_without_its_secret_parts():
    owner = OwnerFactory()
    notify.create_webhook(owner, "slack", "https://user:pass@hooks.example.com:8443/services/T0/B0/XyZ?token=1",
                          ["operation.failed"], True)
    row = AuditEvent.objects.get(event="webhook.create")
    assert row.detail["address"] == "https://hooks.example.com:8443"
    assert "pass" not in str(row.detail) and "XyZ" not in str(row.detail)


def test_people_set_their_own_address_for_notifications(client):
    user = UserFactory(email="")
    client.force_login(user)
    page = client.post(reverse("notifications:preferences"), {"email": "not an address"}).content.decode()
    assert "Nothing was saved" in page and "valid email" in page
    client.post(reverse("notifications:preferences"), {"email": "me@example.com", "events": ["operation.failed"]})
    user.refresh_from_db()
    assert user.email == "me@example.com"
    assert AuditEvent.objects.filter(event="user.email", actor_id=user.pk, detail__to_domain="example.com").exists()
