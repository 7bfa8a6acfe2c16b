"""Which names read alike, from plain strings."""

from accounts.names import ALLOWED, look_alike, skeleton


def test_ascii_look_alikes_share_a_skeleton():
    assert {skeleton(n) for n in ("owner", "0wner", "OWNER", "ow.ner", "owner-")} == {"owner"}
    assert skeleton("rnanager") == skeleton("manager") and skeleton("vievver") == skeleton("viewer")
    assert skeleton("I1l|") == "llll"


def test_distinct_names_stay_distinct():
    assert look_alike("alice", ["bob", "carol"]) is None
    assert look_alike("0perator", ["operator", "viewer"]) == "operator"


def test_only_plain_ascii_names_are_allowed_and_nothing_after_them():
    assert ALLOWED.match("jane.doe+ops@example")
    assert not ALLOWED.match("owner\n") and not ALLOWED.match("\u043ewner") and not ALLOWED.match("a b")
