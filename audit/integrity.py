"""The one check of the trail, for the Integrity page and `verify_audit`: chain, seals, signed head."""

from .chain import GENESIS, Verdict, verify
from .digest import DigestVerdict, legacy_until, seal_holds, verify_digests
from .models import AuditEvent


class NoSuchEvent(ValueError):
    pass


def check(since: int = 1) -> tuple[Verdict, DigestVerdict]:
    """Walk the chain from event `since` (checking each row's link, hash and seal), then the signed
    head and the dated digests against the whole table."""
    prev_hash = GENESIS
    if since > 1:
        prev_hash = AuditEvent.objects.filter(seq=since - 1).values_list("hash", flat=True).first()
        if prev_hash is None:
            raise NoSuchEvent(f"There is no event {since - 1} to start from.")
    rows = AuditEvent.objects.filter(seq__gte=since).order_by("seq").iterator(chunk_size=2000)
    return verify(rows, prev_hash, since, seal_holds=seal_holds, unsealed_until=legacy_until()), verify_digests()
