"""The audit trail is append-only in the ORM and the database, and tampering is caught."""

import itertools
import subprocess
import sys
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit.models import AppendOnlyError, AuditEvent
from audit.services import client_ip, record
from tests.factories import DeviceFactory, UserFactory
from tests.support.audit_trail import guard_lifted, recorded
from tests.support.processes import MANAGE, child_env

pytestmark = pytest.mark.django_db


def trail(n: int = 5) -> list[AuditEvent]:
    return recorded(n)


def verify(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def tamper(sql: str, params=()) -> None:
    """Change the table behind the application's back, as someone with database access could."""
    with guard_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_events_form_an_intact_chain():
    events = trail(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert "intact up to event 5" in verify()


def test_orm_cannot_change_or_remove_events():
    event = trail(1)[0]
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.parametrize("sql", ["UPDATE audit_auditevent SET reason = 'x'", "DELETE FROM audit_auditevent"])
def test_database_refuses_update_and_delete(sql):
    trail(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 2 and not AuditEvent.objects.filter(reason="x").exists()


def test_postgresql_refuses_truncate():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    trail(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 1


def test_verify_names_an_edited_event():
    trail(5)
    tamper("UPDATE audit_auditevent SET reason = 'nothing happened' WHERE seq = 3")
    with pytest.raises(CommandError, match=r"BROKEN at event 3 .*edited.*Intact up to event 2"):
        verify()


def test_verify_names_the_gap_left_by_a_deleted_event():
    trail(5)
    tamper("DELETE FROM audit_auditevent WHERE seq = 3")
    with pytest.raises(CommandError, match=r"BROKEN at event 4 .*missing"):
        verify()


def test_verify_names_an_inserted_event():
    events = trail(3)
    tamper("INSERT INTO audit_auditevent (seq, created_at, actor_username, actor_type, request_id, event, outcome, "
           "object_type, object_id, object_label, reason, detail, prev_hash, hash) VALUES "
           "(4, %s, 'ghost', 'CUSTOMER', '', 'user.permission.grant', 'succeeded', '', '', '', '', '{}', %s, %s)",
           [events[-1].created_at, events[-1].hash, "f" * 64])
    with pytest.raises(CommandError, match=r"BROKEN at event 4 .*edited"):
        verify()


def test_verify_names_a_reordered_event():
    trail(4)
    tamper("UPDATE audit_auditevent SET seq = 99 WHERE seq = 2")
    with pytest.raises(CommandError, match=r"BROKEN at event 3"):
        verify()


def test_verify_since_checks_from_an_event_on():
    trail(6)
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 2")
    assert "intact up to event 6" in verify("--since", "4")
    with pytest.raises(CommandError):
        verify("--since", "2")


def test_event_keeps_who_where_and_which_request():
    user, device = UserFactory(username="alice"), DeviceFactory()
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
    request.user, request.request_id = user, "req-12345678"

    event = record("device.rescue", "requested", request=request, device=device, reason="disk full")

    assert (event.actor, event.actor_username, event.source_ip, event.request_id) == (
        user, "alice", "192.0.2.7", "req-12345678")
    assert (event.device_id, event.object_label, event.reason) == (device.pk, device.fqdn, "disk full")


def test_forwarded_for_is_believed_only_from_trusted_proxies(settings):
    factory = RequestFactory()
    untrusted = factory.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_ip(untrusted) == "198.51.100.9"
    settings.TRUSTED_PROXIES = ["198.51.100.9"]
    trusted = factory.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.9")
    assert client_ip(trusted) == "203.0.113.1"


def test_responses_carry_the_request_id(client):
    response = client.get("/login/")
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/login/", headers={"X-Request-ID": "abcDEF-123456"})["X-Request-ID"] == "abcDEF-123456"


@pytest.mark.django_db(transaction=True)
def test_two_processes_writing_at_once_keep_one_chain():
    start_at = time.time() + 3  # both start writing at the same instant, after Django has loaded
    code = ("import time\nfrom audit.services import record\n"
            f"time.sleep(max(0, {start_at} - time.time()))\n"
            "for i in range(150):\n    record('test.concurrent', 'succeeded', detail={'writer': WRITER, 'i': i})\n"
            "    time.sleep(0.003)\n")  # like requests, writers pause between events (else SQLite starves one)
    writers = [subprocess.Popen([sys.executable, MANAGE, "shell", "-c", code.replace("WRITER", str(w))],
                                env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for w in (1, 2)]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()

    order = [e.detail["writer"] for e in AuditEvent.objects.order_by("seq")]
    switches = sum(1 for a, b in itertools.pairwise(order) if a != b)
    assert len(order) == 300 and switches > 1, "the two writers did not overlap"
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 301))
    assert "intact up to event 300" in verify()


def test_rows_written_by_services_know_the_request_without_being_handed_it(client):
    """Services do not take the request; the row still names who, from where, and which request."""
    from django.urls import reverse

    from accounts import capabilities as caps
    from tests.factories import OwnerFactory

    owner, target = OwnerFactory(), UserFactory(username="someone")
    client.force_login(owner)
    response = client.post(reverse("accounts:capabilities", args=[target.pk]), {"capabilities": [caps.SERVER_RELOAD]},
                           REMOTE_ADDR="203.0.113.9")

    row = AuditEvent.objects.get(event="user.permission.grant")
    assert (row.actor_id, row.source_ip, row.request_id) == (owner.pk, "203.0.113.9", response["X-Request-ID"])
