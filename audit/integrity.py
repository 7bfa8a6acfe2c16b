"""The one check of the trail, for the Integrity page and `verify_audit`: chain, seals, signed head."""

from .chain import GENESIS, Verdict, verify
from .digest import DigestVerdict, legacy_until, seal_holds, verify_digests
from .models import AuditEvent


class NoSuchEvent(ValueError):
    pass


def check(since: int = 1, *, strict_start: bool = False) -> tuple[Verdict, DigestVerdict]:
    """Walk the chain from event `since` (checking each row's link, hash and seal), then the signed
    head and the dated digests against the whole table.

    Events are numbered from 1: a row numbered below (which no walk from 1 would meet) is named as
    broken. When event `since - 1` is not there the trail has a hole: broken too, unless
    `strict_start` asks to raise NoSuchEvent instead (a person typed a wrong --since)."""
    stray = AuditEvent.objects.filter(seq__lt=1).order_by("seq").values("seq", "pk").first()
    if stray:
        return (Verdict(False, 0, 0, GENESIS, stray["seq"], stray["pk"],
                        "events are numbered from 1; this one was inserted outside the chain"), verify_digests())
    prev_hash = GENESIS
    if since > 1:
        prev_hash = AuditEvent.objects.filter(seq=since - 1).values_list("hash", flat=True).first()
        if prev_hash is None:
            if strict_start:
                raise NoSuchEvent(f"There is no event {since - 1} to start from.")
            return check(1)  # a hole before the window: the whole walk names it
    rows = AuditEvent.objects.filter(seq__gte=since).order_by("seq").iterator(chunk_size=2000)
    return verify(rows, prev_hash, since, seal_holds=seal_holds, unsealed_until=legacy_until()), verify_digests()
