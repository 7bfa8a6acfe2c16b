"""A device password, planted at the provider and revealed once, is found nowhere else: not in the
database, Redis (RQ job payloads decompressed), the logs, or any page but the reveal's answer."""

import contextlib
import logging
import zlib

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import OwnerFactory
from tests.support.operations import press_yes, wait_for
from workflows.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability]
PASSWORD = "correct horse battery staple"


def database_text() -> str:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def redis_bytes() -> bytes:
    """Every key and value; RQ's job payloads are zlib-compressed pickles, so they are opened too."""
    client = redis.Redis.from_url(settings.RQ_QUEUES["default"]["URL"])
    chunks = []
    for key in client.scan_iter():
        chunks.append(key + (client.dump(key) or b""))
        if client.type(key) == b"hash":
            for value in client.hgetall(key).values():
                chunks.append(value)
                with contextlib.suppress(zlib.error):
                    chunks.append(zlib.decompress(value))
    return b"\n".join(chunks)


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
    assert secret not in database_text()
    assert secret.encode() not in redis_bytes()
    assert secret not in worker.log_path.read_text()
    assert secret not in caplog.text
