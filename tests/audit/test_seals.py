"""The tail of the trail cannot be forged by someone who holds only the database: rows appended
with a correct hash, rows cut from the end, a recomputed table, an emptied or missing digest file."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from audit.chain import digest, row_values
from audit.digest import read_head, sign_trail_from_before_seals, write_digest
from audit.models import AuditEvent
from tests.support.audit_trail import guard_lifted, recorded

pytestmark = pytest.mark.django_db


def trail(count: int = 5) -> int:
    """Events written as the portal writes them (each commit signs the head); the new head's seq."""
    return recorded(count)[-1].seq


def verify_output() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def forge_row_after_the_head(seal: str | None = None) -> int:
    """What someone with database access (and no key) can add: a row with a correctly computed hash."""
    last = AuditEvent.objects.order_by("-seq").first()
    values = row_values(last) | {"seq": last.seq + 1, "event": "user.permission.grant", "reason": "forged",
                                 "detail": {"granted": "ACCESS_ALL_HARDWARE"}}
    AuditEvent.objects.create(prev_hash=last.hash, hash=digest(values, last.hash), seal=seal, **values)
    return last.seq + 1


def test_every_write_seals_its_row_and_signs_the_head():
    head = trail()

    assert read_head()["seq"] == head
    assert all(AuditEvent.objects.values_list("seal", flat=True))
    assert f"intact up to event {head}" in verify_output() and "NOT YET SIGNED" not in verify_output()


@pytest.mark.parametrize("seal", [None, "0" * 64], ids=["no-seal", "made-up-seal"])
def test_a_row_appended_with_a_correct_hash_is_named(auditor_client, seal):
    trail()
    forged = forge_row_after_the_head(seal)

    with pytest.raises(CommandError, match=rf"BROKEN at event {forged} .*digest key"):
        verify_output()
    page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert f"Broken at event {forged}" in page and 'id="verdict">Intact' not in page


def test_rows_cut_from_the_end_are_missed(auditor_client):
    head = trail()
    with guard_lifted():
        AuditEvent.objects.filter(seq__gte=head - 1)._raw_delete(AuditEvent.objects.db)

    with pytest.raises(CommandError, match=rf"event {head}, signed as the head .*was removed"):
        verify_output()
    page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert "Signatures do not match" in page and "was removed" in page


def test_a_whole_table_recomputed_without_seals_is_named_at_its_first_row():
    """Every hash recomputed and every seal dropped, as if the trail predated seals: its first row is named."""
    trail()
    with guard_lifted():
        events = list(AuditEvent.objects.order_by("seq"))
        AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
        prev = "0" * 64
        for event in events:
            values = row_values(event) | ({"reason": "nothing happened"} if event.seq == 2 else {})
            event.reason, event.prev_hash, event.hash, event.seal = values["reason"], prev, digest(values, prev), None
            prev = event.hash
        AuditEvent.objects.bulk_create(events)

    with pytest.raises(CommandError, match=r"BROKEN at event 1 .*it has no seal"):
        verify_output()


def test_an_emptied_digest_history_is_a_failure_not_zero_matches(settings, auditor_client):
    trail()
    write_digest()
    trail(2)
    write_digest()
    (settings.AUDIT_DIGEST_DIR / "digests.jsonl").write_text("")

    with pytest.raises(CommandError, match="holds 0 of the 2 digests written: it was truncated"):
        verify_output()
    page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert "it was truncated" in page and "0 dated digests match" not in page


def test_a_missing_signed_head_is_a_failure(settings):
    trail()
    (settings.AUDIT_DIGEST_DIR / "head.json").unlink()

    with pytest.raises(CommandError, match=r"the signed head \(.*head.json\) is missing"):
        verify_output()


def test_a_head_signed_with_another_key_is_refused(settings):
    head = trail()
    forged = read_head() | {"seq": head - 2}
    (settings.AUDIT_DIGEST_DIR / "head.json").write_text(json.dumps(forged))  # an older seq, the old signature

    with pytest.raises(CommandError, match="is not signed with the digest key"):
        verify_output()


def test_rows_after_the_signed_head_are_shown_as_not_yet_signed(settings, auditor_client):
    """A writer that stopped between its commit and the signature: sealed rows, honestly unsigned."""
    trail()
    signed_before = (settings.AUDIT_DIGEST_DIR / "head.json").read_text()
    head = trail(2)
    (settings.AUDIT_DIGEST_DIR / "head.json").write_text(signed_before)

    said = verify_output()
    assert f"intact up to event {head}" in said and "NOT YET SIGNED: 2 events" in said
    page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert "Not yet signed: 2 events" in page and "msg-warning" in page
    assert 'id="digests">The signed head' not in page

    trail(1)  # the next write signs them
    assert "NOT YET SIGNED" not in verify_output()


def test_rows_from_before_seals_are_counted_not_failed():
    """A trail written before seals existed verifies by its chain, says so, and new rows are sealed after it."""
    prev = "0" * 64
    for seq in (1, 2, 3):
        values = {"seq": seq, "created_at": timezone.now(), "actor_id": None, "actor_username": "old",
                  "actor_type": "CUSTOMER", "source_ip": None, "request_id": "", "event": "auth.login",
                  "outcome": "succeeded", "object_type": "", "object_id": "", "object_label": "", "device_id": None,
                  "operation_id": None, "reason": "", "detail": {}}
        prev = AuditEvent.objects.create(prev_hash=prev, hash=digest(values, prev), **values).hash
    sign_trail_from_before_seals(3, prev)  # what migration audit 0005 does on such a trail

    assert "3 older events from before seals" in verify_output()
    trail(2)
    said = verify_output()
    assert "intact up to event 5" in said and "3 older events from before seals" in said


def test_an_unsealed_row_after_the_trail_from_before_seals_is_named():
    head = trail()
    forged = forge_row_after_the_head(None)
    assert forged == head + 1
    with pytest.raises(CommandError, match=rf"BROKEN at event {forged} .*it has no seal"):
        verify_output()


def test_a_row_numbered_below_one_is_named_not_skipped(auditor_client):
    """Such a row is met by no walk from event 1; it used to pass as intact and show in every list."""
    trail()
    first = AuditEvent.objects.get(seq=1)
    values = row_values(first) | {"seq": 0, "reason": "forged, seq 0"}
    AuditEvent.objects.create(prev_hash="0" * 64, hash="f" * 64, seal=None, **values)

    with pytest.raises(CommandError, match=r"BROKEN at event 0 .*numbered from 1"):
        verify_output()
    page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert "Broken at event 0" in page


def test_rows_cut_from_the_end_stay_missed_however_much_is_written_after(settings):
    head = trail()
    with guard_lifted():
        AuditEvent.objects.filter(seq__gte=head - 1)._raw_delete(AuditEvent.objects.db)
    trail(5)  # the portal goes on writing (event numbers {head - 1}… again, with other content)

    with pytest.raises(CommandError, match=rf"event {head}, signed as the head .*was rewritten"):
        verify_output()
    assert read_head()["seq"] == head  # the signed head did not move past the cut
    assert write_digest() is None  # nor does the dated history sign the cut trail


def test_a_removed_head_file_is_started_again_and_says_so(settings, auditor_client):
    trail()
    (settings.AUDIT_DIGEST_DIR / "head.json").unlink()
    head = trail(1)

    said = verify_output()
    assert f"started again at event {head}" in said
    page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert f"started again at event {head}" in page and 'id="restarted"' in page


def test_an_emptied_history_stays_truncated_after_the_next_digest(settings):
    trail()
    write_digest()
    trail(1)
    (settings.AUDIT_DIGEST_DIR / "digests.jsonl").write_text("")
    trail(1)

    assert write_digest() is None  # nothing is counted afresh
    with pytest.raises(CommandError, match="holds 0 of the 1 digests written: it was truncated"):
        verify_output()


def test_a_hole_before_the_integrity_window_is_shown_not_a_500(auditor_client):
    trail()
    last = AuditEvent.objects.order_by("-seq").first()
    far = 10**12
    values = row_values(last) | {"seq": far}
    AuditEvent.objects.create(prev_hash=last.hash, hash=digest(values, last.hash), seal=None, **values)

    response = auditor_client.get(reverse("audit:integrity"))
    assert response.status_code == 200 and "Broken at event" in response.content.decode()


def test_the_integrity_page_says_when_the_guard_is_gone(auditor_client):
    trail()
    with guard_lifted():
        page = auditor_client.get(reverse("audit:integrity")).content.decode()
    assert "Not append-only" in page and "restore_audit_guard" in page
    assert "Append-only guard in place" in auditor_client.get(reverse("audit:integrity")).content.decode()
