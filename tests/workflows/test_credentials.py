"""Reveal password: permission, re-authentication, audit first, no-store; the password nowhere else."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts import capabilities as caps
from audit.models import AuditEvent
from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory, UserFactory, grant
from tests.support.operations import wait_for
from tests.support.secrets import everything_in_redis, everything_in_the_database
from workflows import services
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def rescued(sim, worker):
    sync_devices()
    device = Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()
    wait_for(services.request_operation(OwnerFactory(), device, Operation.Kind.RESCUE), "in_rescue")
    secret = sim.client().call("Virtual_Guest", "getObject", id=device.provider_id,
                               mask="mask[operatingSystem[passwords[password]]]")["operatingSystem"]["passwords"][0]
    return device, secret["password"]


def test_reveal_needs_reauth_is_audited_first_and_is_not_kept(rescued, worker):
    device, secret = rescued
    user = grant(UserFactory(), caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD, caps.SERVER_RELOAD, devices=[device])
    client = Client()
    client.force_login(user)
    url = reverse("workflows:reveal_password", args=[device.pk])

    page = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "Reveal password" in page and secret not in page
    ask = client.post(url)
    assert "Enter your own password" in ask.content.decode() and secret not in ask.content.decode()
    wrong = client.post(url, {"password": "nope"})
    assert wrong.status_code == 403 and secret not in wrong.content.decode()
    assert AuditEvent.objects.filter(event="auth.reauth_failed", actor=user).exists()

    shown = client.post(url, {"password": PASSWORD})

    assert secret in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    reveal = AuditEvent.objects.get(event="device.credentials.reveal", outcome="succeeded")
    assert reveal.actor == user and reveal.device_id == device.pk and secret not in repr(reveal.detail)
    again = client.post(url)  # within ten minutes: no second prompt
    assert secret in again.content.decode()

    assert secret not in client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert secret not in everything_in_the_database()
    assert secret.encode() not in everything_in_redis()
    assert secret not in worker.log_path.read_text()


def test_reveal_without_the_permission_is_refused_and_audited(rescued):
    device, secret = rescued
    operator = grant(UserFactory(), caps.SERVER_RELOAD, devices=[device])
    client = Client()
    client.force_login(operator)
    response = client.post(reverse("workflows:reveal_password", args=[device.pk]), {"password": PASSWORD})
    assert response.status_code == 403 and secret not in response.content.decode()
    assert AuditEvent.objects.filter(event="device.credentials.reveal", outcome="denied").count() == 1
    other = Device.objects.exclude(pk=device.pk).first()
    assert client.post(reverse("workflows:reveal_password", args=[other.pk])).status_code == 404


def test_reveal_is_post_only(rescued):
    device, _ = rescued
    client = Client()
    client.force_login(OwnerFactory())
    assert client.get(reverse("workflows:reveal_password", args=[device.pk])).status_code == 405




def test_reveal_outside_rescue_is_refused_and_audited(rescued, worker):
    """After a Restart took the device out of rescue, a forged POST gets no password."""
    device, secret = rescued
    owner = OwnerFactory()
    wait_for(services.request_operation(owner, device, Operation.Kind.RESTART), "normal")
    client = Client()
    client.force_login(owner)
    url = reverse("workflows:reveal_password", args=[device.pk])

    refused = client.post(url, {"password": PASSWORD})

    assert refused.status_code == 409 and secret not in refused.content.decode()
    assert "only while the device is in rescue mode" in refused.content.decode()
    assert AuditEvent.objects.filter(event="device.credentials.reveal", outcome="denied", device_id=device.pk).exists()
    assert not AuditEvent.objects.filter(event="device.credentials.reveal", outcome="succeeded").exists()


def test_a_reveal_whose_answer_is_lost_keeps_the_person_signed_in_and_the_trail_tells_sent_from_shown(rescued):
    """Issue 19: confirm the password, then open another device before the answer arrives. The
    person stays signed in, and the trail says the password was sent but never shown."""
    device, secret = rescued
    user = grant(UserFactory(), caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD, devices=[device])
    client = Client()
    client.force_login(user)
    cookie_before = client.cookies["sessionid"].value
    url = reverse("workflows:reveal_password", args=[device.pk])

    answer = client.post(url, {"password": PASSWORD}).content.decode()
    client.cookies["sessionid"] = cookie_before  # the answer, and any cookie it set, never reached the browser

    assert secret in answer
    assert client.get(reverse("devices:detail", args=[device.pk])).status_code == 200  # still signed in
    sent = AuditEvent.objects.get(event="device.credentials.reveal", outcome="succeeded")
    assert not AuditEvent.objects.filter(event="device.credentials.shown").exists()

    # The page that does get it says so, once; a replay or a forged receipt adds nothing.
    receipt = re.search(r'"receipt": "([^"]+)"', answer).group(1)
    shown_url = reverse("workflows:password_shown", args=[device.pk])
    assert client.post(shown_url, {"receipt": receipt}).status_code == 204
    assert client.post(shown_url, {"receipt": receipt}).status_code == 400
    assert client.post(shown_url, {"receipt": "forged"}).status_code == 400
    shown = AuditEvent.objects.get(event="device.credentials.shown")
    assert shown.actor == user and shown.detail == {"reveal_seq": sent.seq}
