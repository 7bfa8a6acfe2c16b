"""Audit review at scale: 40,000 events, filters, keyset pages and streamed export."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import DeviceFactory
from tests.support.audit_trail import bulk_trail, guard_lifted

pytestmark = pytest.mark.django_db
LOG = reverse("audit:log")


@pytest.fixture(scope="module")
def big_trail(django_db_setup, django_db_blocker):
    """40,000 events (two weeks) over 3 devices, shared by the read-only tests of this module
    (the figures at a million are bench/audit_bench.py's)."""
    with django_db_blocker.unblock():
        devices = [DeviceFactory(hostname=f"trail-{i}") for i in range(3)]
        bulk_trail(40_000, devices=devices)
        yield devices
        with guard_lifted():  # the ORM refuses to delete audit rows, rightly
            AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
        for device in devices:
            device.delete()


def seqs(response) -> list[int]:
    return [e.seq for e in response.context["page"].rows]


def test_filters_on_40000_events(auditor_client, big_trail):
    device = big_trail[1]
    cases = [
        {"event": "device.rescue"}, {"outcome": "denied"}, {"actor": "BOB"}, {"device": device.hostname},
        {"q": "kernel panic"}, {"since": "2026-01-10", "until": "2026-01-12"},
        {"event": "device.credentials.reveal", "outcome": "succeeded", "device": device.hostname},
    ]
    for params in cases:
        rows = auditor_client.get(LOG, params).context["page"].rows
        expected = AuditEvent.objects.all()
        if "event" in params:
            expected = expected.filter(event=params["event"])
        if "outcome" in params:
            expected = expected.filter(outcome=params["outcome"])
        if "actor" in params:
            expected = expected.filter(actor_username__iexact=params["actor"])
        if "device" in params:
            expected = expected.filter(device_id=device.pk)
        if "q" in params:
            expected = expected.filter(reason__icontains=params["q"])
        if "since" in params:
            expected = expected.filter(created_at__date__gte=params["since"], created_at__date__lte=params["until"])
        assert [e.seq for e in rows] == list(expected.order_by("-seq").values_list("seq", flat=True)[:50]), params
        assert rows, params


def test_keyset_pages_have_constant_queries_and_no_count(auditor_client, big_trail):
    first = auditor_client.get(LOG)
    with CaptureQueriesContext(connection) as shallow:
        second = auditor_client.get(LOG, {"before": seqs(first)[-1]})
    with CaptureQueriesContext(connection) as deep:
        deep_page = auditor_client.get(LOG, {"before": 1_000})

    assert len(shallow) == len(deep)
    assert not any("COUNT(" in q["sql"].upper() and "audit_auditevent" in q["sql"] for q in shallow.captured_queries)
    assert seqs(second)[0] == seqs(first)[-1] - 1 and len(seqs(second)) == 50
    assert seqs(deep_page) == list(range(999, 949, -1))
    back = auditor_client.get(LOG, {"after": seqs(second)[0]})
    assert seqs(back) == seqs(first)


def test_export_streams_the_filter_and_is_audited(auditor_client, big_trail):
    device = big_trail[0]
    params = {"device": device.hostname, "event": "device.rescue"}
    expected = list(AuditEvent.objects.filter(device_id=device.pk, event="device.rescue").order_by("seq")
                    .values_list("seq", flat=True))

    as_csv = auditor_client.get(reverse("audit:export_csv"), params)
    as_jsonl = auditor_client.get(reverse("audit:export_jsonl"), params)

    assert as_csv.streaming and as_jsonl.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(as_csv.streaming_content).decode())))
    assert [int(r["seq"]) for r in rows] == expected
    lines = [json.loads(line) for line in b"".join(as_jsonl.streaming_content).decode().splitlines()]
    assert [line["seq"] for line in lines] == expected and lines[0]["device_id"] == device.pk
    exports = AuditEvent.objects.filter(event="audit.export").order_by("seq")
    assert [e.detail["format"] for e in exports] == ["csv", "jsonl"]
    assert exports[0].detail["filter"] == params
