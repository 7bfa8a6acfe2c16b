"""The device page's history in sentences (issue 19): pure decisions on plain rows, then the page."""

import pytest
from django.urls import reverse

from audit.services import record
from review.sentences import describe
from tests.factories import DeviceFactory, UserFactory, grant


@pytest.mark.parametrize(("row", "sentence"), [
    (("device.rescue", "requested", "olga", {"state": "queued", "kind": "rescue"}, "fsck"),
     "olga asked for Rescue mode. Reason: fsck."),
    (("device.rescue", "requested", "olga", {"state": "powering_down", "step": "powering_down"}, "fsck"),
     "Rescue mode: powering down."),
    (("device.rescue", "requested", "olga", {"step": "accepted by SoftLayer"}, "fsck"),
     "Rescue mode: SoftLayer accepted it."),
    (("device.rescue", "succeeded", "olga", {"state": "in_rescue"}, ""),
     "Rescue mode finished: the device is in rescue mode."),
    (("device.rescue", "succeeded", "olga", {"state": "exited", "how": "Restart"}, "done"),
     "The device left rescue mode (Restart, by olga). Reason: done."),
    (("device.boot_image", "requested", "wu", {"image": "WindowsRescueStandalone.iso"}, ""),
     "wu asked for Boot from image (WindowsRescueStandalone.iso)."),
    (("device.restart", "failed", "olga", {"state": "failed"}, "SoftLayer refused it."),
     "Restart failed. Why: SoftLayer refused it."),
    (("device.rescue", "denied", "vic", {}, "You do not have permission to do this on this device."),
     "vic was refused Rescue mode. Why: You do not have permission to do this on this device."),
    (("device.restart", "requested", "", {"automatic": "time limit"}, ""),
     "The portal asked for Restart at the session's time limit."),
    (("device.credentials.reveal", "succeeded", "olga", {"usernames": ["root"]}, ""),
     "olga revealed the password of root (sent to the page)."),
    (("device.credentials.shown", "succeeded", "olga", {}, ""), "The password appeared on olga's page."),
    (("rescue_session.extend", "succeeded", "olga", {"added_minutes": 60}, "still copying"),
     "olga gave the session 1 hour more. Reason: still copying."),
    (("some.new.event", "failed", "olga", {"x": 1}, ""), "some.new.event: failed."),
])
def test_each_row_reads_as_a_sentence(row, sentence):
    assert describe(*row) == sentence


@pytest.mark.django_db
def test_an_operator_reads_sentences_where_the_auditor_reads_the_rows(client):
    device = DeviceFactory(kind="virtual")
    operator = grant(UserFactory(username="olga"), roles=["Operator"], devices=[device])
    auditor = grant(UserFactory(), roles=["Auditor"], devices=[device])
    record("device.rescue", "requested", actor=operator, device=device, reason="fsck",
           detail={"state": "powering_down", "kind": "rescue", "step": "powering_down"})

    client.force_login(operator)
    page = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "Rescue mode: powering down." in page and "&quot;state&quot;" not in page and '"state"' not in page

    client.force_login(auditor)
    page = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "powering_down" in page and "All events of this device" in page
