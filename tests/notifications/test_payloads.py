"""The webhook body and its signature, with plain values."""

import json

from notifications.payloads import body, signature, summary, verify

SECRET = "s3cret"


def test_a_signed_body_verifies_and_a_changed_one_does_not():
    raw = body("operation.failed", "An operation failed", {"device": "db1", "summary": "x"}, slack=False)
    header = signature(SECRET, 1_700_000_000, raw)
    assert verify(SECRET, header, raw, now=1_700_000_010)
    assert not verify(SECRET, header, raw.replace(b"db1", b"db2"), now=1_700_000_010)  # tampered
    assert not verify("other", header, raw, now=1_700_000_010)  # another secret
    assert not verify(SECRET, header, raw, now=1_700_000_000 + 301)  # replayed later than the tolerance
    assert not verify(SECRET, "garbage", raw, now=1_700_000_000)


def test_slack_gets_text_and_others_get_the_event_and_its_facts():
    facts = {"summary": "Rescue mode on db1: In rescue", "url": "http://x/operations/1/"}
    assert json.loads(body("operation.succeeded", "An operation finished", facts, slack=True)) == {
        "text": "*An operation finished*: Rescue mode on db1: In rescue <http://x/operations/1/|Open in Rescue Portal>"}
    plain = json.loads(body("operation.succeeded", "An operation finished", facts, slack=False))
    assert plain["event"] == "operation.succeeded" and plain["summary"].startswith("Rescue mode")


def test_the_summary_says_what_where_and_how_it_stands():
    assert summary({"action": "Restart", "device": "web1", "state": "Failed", "error": "busy"}) == (
        "Restart on web1: Failed (busy)")
