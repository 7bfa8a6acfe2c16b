"""Audit review: the log with filters and keyset pages, export, past rescues, timelines, integrity."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import capabilities as caps
from audit.chain import GENESIS, digest, row_values
from audit.digest import write_digest
from audit.models import AuditEvent
from audit.services import record
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, grant
from tests.support.audit_trail import guard_lifted
from workflows.models import Operation

pytestmark = pytest.mark.django_db
LOG = reverse("audit:log")


def seqs(response) -> list[int]:
    return [e.seq for e in response.context["page"].rows]


def test_only_reviewers_see_the_log(client):
    device = DeviceFactory()
    device_user = grant(UserFactory(), caps.SERVER_RELOAD, devices=[device])
    for user, status in ((device_user, 403), (grant(UserFactory(), roles=["Viewer"]), 403), (OwnerFactory(), 200),
                         (grant(UserFactory(), roles=["Auditor"]), 200)):
        client.force_login(user)
        for url in (LOG, reverse("audit:rescues"), reverse("audit:integrity"), reverse("audit:export_csv")):
            assert client.get(url).status_code == status, (user, url)
    assert AuditEvent.objects.filter(event="audit.view", outcome="denied").count() == 8
    client.logout()
    assert client.get(LOG).status_code == 302


def make_rescue(device, user, *, reached_ago: float | None, exited_ago: float | None, failed: bool = False):
    now = timezone.now()
    started = now - timedelta(hours=3)
    op = Operation.objects.create(
        device=device, requested_by=user, kind="rescue", deadline_at=now, reason="disk full",
        state="failed" if failed else "in_rescue",
        finished_at=now - timedelta(seconds=reached_ago) if reached_ago is not None else now)
    Operation.objects.filter(pk=op.pk).update(created_at=started)
    if exited_ago is not None:
        exit_op = Operation.objects.create(device=device, requested_by=user, kind="restart", state="normal",
                                           deadline_at=now, finished_at=now - timedelta(seconds=exited_ago))
        Operation.objects.filter(pk=exit_op.pk).update(created_at=now - timedelta(seconds=exited_ago + 60))
        Operation.objects.filter(pk=op.pk).update(state="exited", ended_by=exit_op, exited_at=exit_op.finished_at)
    return op


def test_past_rescues_time_in_rescue_and_reveals(auditor_client):
    owner = OwnerFactory()
    done, failed, running = DeviceFactory(hostname="done"), DeviceFactory(hostname="failed"), DeviceFactory(
        hostname="running")
    make_rescue(done, owner, reached_ago=3600, exited_ago=600)
    make_rescue(failed, owner, reached_ago=None, exited_ago=None, failed=True)
    make_rescue(running, owner, reached_ago=1800, exited_ago=None)
    record("device.credentials.reveal", "succeeded", actor=owner, device=done)
    record("device.credentials.reveal", "succeeded", actor=owner, device=running)
    record("device.credentials.reveal", "succeeded", actor=owner, device=running)

    response = auditor_client.get(reverse("audit:rescues"))

    ops = {op.device.hostname: op for op in response.context["page"].rows}
    assert set(ops) == {"done", "failed", "running"}
    assert ops["done"].seconds_in_rescue == pytest.approx(3000, abs=2)
    assert ops["failed"].seconds_in_rescue is None
    assert ops["running"].seconds_in_rescue == pytest.approx(1800, abs=5)
    assert (ops["done"].reveals, ops["running"].reveals, ops["failed"].reveals) == (0, 2, 0)
    html = response.content.decode()
    assert "50 min 00 s" in html and "(still in rescue)" in html
    assert ops["done"].get_state_display() == "Exited" and "Restart by" in html


def test_operation_story_shows_every_event_in_order(auditor_client, rf):
    owner = OwnerFactory()
    device = DeviceFactory()
    op = make_rescue(device, owner, reached_ago=60, exited_ago=None)
    request = rf.post("/", REMOTE_ADDR="198.51.100.23")
    request.user, request.request_id = owner, "story-request-1"
    for step in ("step-one", "step-two", "step-three"):
        record("device.rescue", "requested", request=request, device=device, operation_id=op.pk,
               detail={"step": step})
    record("device.credentials.reveal", "succeeded", request=request, device=device)

    html = auditor_client.get(reverse("audit:story", args=[op.pk])).content.decode()

    positions = [html.index(step) for step in ("step-one", "step-two", "step-three")]
    assert positions == sorted(positions)
    assert "device.credentials.reveal" in html and "198.51.100.23" in html and "story-request-1"[:13] in html


def test_device_timeline_for_device_users_and_auditors(client):
    device = DeviceFactory()
    record("device.rescue", "requested", actor=OwnerFactory(), device=device, reason="kernel update went wrong")
    user = grant(UserFactory(), devices=[device])
    client.force_login(user)
    own_view = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "kernel update went wrong" in own_view and "Source IP" not in own_view
    client.force_login(grant(UserFactory(), caps.ACCESS_ALL_GUEST, roles=["Auditor"]))
    full = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "kernel update went wrong" in full and "Source IP" in full


def test_rewriting_the_whole_table_is_caught_by_the_seals_and_the_signed_digest(auditor_client):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for i in range(5):
        record("user.permission.grant", "succeeded", detail={"i": i})
    head = AuditEvent.objects.order_by("-seq").first().seq  # the auditor's login is an event too
    assert write_digest()["seq"] == head
    # Someone with database access rewrites event 3 and recomputes every hash after it.
    with guard_lifted():
        events = list(AuditEvent.objects.order_by("seq"))
        AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
        prev = GENESIS
        for event in events:
            values = row_values(event)
            if event.seq == 3:
                values["detail"] = {"i": "nothing to see"}
            event.prev_hash, event.hash = prev, digest(values, prev)
            event.detail = values["detail"]
            prev = event.hash
        AuditEvent.objects.bulk_create(events)

    with pytest.raises(CommandError, match=r"BROKEN at event 3 .*its seal does not hold"):
        call_command("verify_audit")
    page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert "Broken at event 3" in page and "Signatures do not match" in page and f"event {head}, signed" in page


def test_integrity_page_names_the_broken_event(auditor_client):
    for i in range(4):
        record("user.permission.grant", "succeeded", detail={"i": i})
    with guard_lifted(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'edited' WHERE seq = 2")
    html = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert "Broken at event 2" in html


def test_admin_offers_no_way_to_change_events(rf):
    from django.contrib import admin

    model_admin = admin.site._registry[AuditEvent]
    request = rf.get("/")
    request.user = OwnerFactory()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(request)


def test_csv_export_neutralises_formulas_and_json_lines_stays_exact(auditor_client):
    for reason in ("=HYPERLINK(\"http://evil.example\",\"click\")", "-2+3", "+1", "@SUM(A1)", "\tx", "plain"):
        record("test.event", "denied", reason=reason)
    as_csv = b"".join(auditor_client.get(reverse("audit:export_csv")).streaming_content).decode()
    reasons = [row["reason"] for row in csv.DictReader(io.StringIO(as_csv)) if row["event"] == "test.event"]
    assert reasons == ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'-2+3", "'+1", "'@SUM(A1)", "'\tx", "plain"]
    as_jsonl = b"".join(auditor_client.get(reverse("audit:export_jsonl")).streaming_content).decode()
    exact = [json.loads(line)["reason"] for line in as_jsonl.splitlines() if '"test.event"' in line]
    assert exact[0].startswith("=HYPERLINK") and exact[1] == "-2+3"


def test_past_rescues_pages_hold_every_rescue_once_newest_first(auditor_client):
    owner = OwnerFactory()
    made = [make_rescue(DeviceFactory(hostname=f"r{i:03d}"), owner, reached_ago=60, exited_ago=None).pk
            for i in range(120)]
    seen, params = [], {}
    while True:
        page = auditor_client.get(reverse("audit:rescues"), params).context["page"]
        seen += [op.pk for op in page.rows]
        if not page.older:
            break
        params = {"before": page.older}
    assert seen == sorted(made, reverse=True)
    back = auditor_client.get(reverse("audit:rescues"), {"after": seen[-20]}).context["page"]
    assert [op.pk for op in back.rows] == seen[-70:-20]  # the newer page before the last one


def test_search_is_literal_and_case_insensitive_over_reasons_and_details(auditor_client):
    """A % or _ typed in the search box is a character, not a wildcard, on either database."""
    owner = OwnerFactory()
    for reason, detail in [("Disk at 100% after update", {}), ("disk at 1000 after update", {}),
                           ("", {"ticket": "CHG_42"}), ("", {"ticket": "CHGx42"})]:
        record("device.rescue", "requested", actor=owner, reason=reason, detail=detail)

    def found(term):
        rows = auditor_client.get(reverse("audit:log"), {"q": term}).context["page"].rows
        return sorted(e.reason or e.detail["ticket"] for e in rows)

    assert found("100%") == ["Disk at 100% after update"]
    assert found("DISK AT 100") == ["Disk at 100% after update", "disk at 1000 after update"]
    assert found("chg_42") == ["CHG_42"]
    assert found("nothing like it") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_on_postgresql_a_search_can_use_the_trigram_index(auditor_client):
    from audit.selectors import search_text

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # on a small table the planner would rather scan
        queryset = search_text(AuditEvent.objects.order_by(), "kernel panic")  # the match alone
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "audit_search_trgm_idx" in plan, plan
