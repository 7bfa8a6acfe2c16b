"""Usernames people can tell apart: the rules that need no database."""

import re

ALLOWED = re.compile(r"\A[A-Za-z0-9.@+_-]{1,150}\Z")
# Within ASCII, what reads as what in a list or an audit row: 0/O, 1/l/I, rn/m, vv/w; and
# separators that a glance skips.
_PAIRS = (("rn", "m"), ("vv", "w"))
_SINGLE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})
_SEPARATORS = re.compile(r"[._+@-]")


def skeleton(username: str) -> str:
    """What a name looks like at a glance: two names with one skeleton are one name to a reader."""
    text = _SEPARATORS.sub("", username.casefold())
    for pair, looks_like in _PAIRS:
        text = text.replace(pair, looks_like)
    return text.translate(_SINGLE)


def look_alike(username: str, existing: list[str]) -> str | None:
    """The existing name this one would be mistaken for, if any."""
    mine = skeleton(username)
    return next((name for name in existing if skeleton(name) == mine), None)
