"""A device password, planted at the provider and revealed once, is found nowhere else: not in the
database, Redis (RQ job payloads decompressed), the logs, or any page but the reveal's answer."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import OwnerFactory
from tests.support.operations import press_yes, wait_for
from tests.support.secrets import everything_in_redis, everything_in_the_database
from workflows.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability]
PASSWORD = "correct horse battery staple"


def test_a_revealed_password_is_found_nowhere_else(sim, guest, worker, caplog):
    caplog.set_level(logging.DEBUG)
    owner = OwnerFactory(password=PASSWORD)
    client = Client()
    client.force_login(owner)
    press_yes(client, reverse("workflows:rescue", args=[guest.pk]))
    op = wait_for(Operation.objects.get(device=guest), "in_rescue")
    secret = sim.client().call("Virtual_Guest", "getObject", id=guest.provider_id,
                               mask="mask[operatingSystem[passwords[password]]]")["operatingSystem"]["passwords"][0][
        "password"]

    revealed = client.post(reverse("workflows:reveal_password", args=[guest.pk]), {"password": PASSWORD})
    assert secret in revealed.content.decode()  # the one place it may be

    pages = [reverse("devices:list"), reverse("devices:detail", args=[guest.pk]),
             reverse("workflows:operation", args=[op.pk]), reverse("workflows:operation_progress", args=[op.pk]),
             reverse("audit:log"), reverse("audit:rescues"), reverse("audit:story", args=[op.pk]),
             reverse("audit:integrity"), reverse("accounts:list"), reverse("accounts:detail", args=[owner.pk])]
    for url in pages:
        assert secret not in client.get(url).content.decode(), url
    for url in (reverse("audit:export_csv"), reverse("audit:export_jsonl")):
        assert secret.encode() not in b"".join(client.get(url).streaming_content), url
    assert AuditEvent.objects.filter(event="device.credentials.reveal", outcome="succeeded").count() == 1
    assert secret not in everything_in_the_database()
    assert secret.encode() not in everything_in_redis()
    assert secret not in worker.log_path.read_text()
    assert secret not in caplog.text
