"""Signed digests of the chain head, kept outside the database.

Every few minutes the head (seq, hash) is signed with HMAC-SHA256 under a key that is not in
the database and appended to a file. Someone who rewrites the whole table and recomputes every
hash still cannot make the old heads match: verification names the first digest that no longer
does.
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent


def _key() -> bytes:
    if settings.AUDIT_DIGEST_KEY:
        return settings.AUDIT_DIGEST_KEY.encode()
    key_file = Path(settings.VAR_DIR) / "audit_digest_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()


def _file() -> Path:
    directory = Path(settings.AUDIT_DIGEST_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "digests.jsonl"


def _sign(seq: int, head_hash: str, at: str) -> str:
    return hmac.new(_key(), f"{seq}:{head_hash}:{at}".encode(), hashlib.sha256).hexdigest()


def write_digest() -> dict | None:
    """Sign the current head; None when the trail is empty or the head was already signed."""
    head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    if head is None:
        return None
    last = read_digests()[-1:] or [None]
    if last[0] and last[0].get("seq") == head["seq"]:
        return None
    at = timezone.now().isoformat()
    entry = {"seq": head["seq"], "hash": head["hash"], "at": at, "signature": _sign(head["seq"], head["hash"], at)}
    with _file().open("a") as out:
        out.write(json.dumps(entry) + "\n")
    return entry


def read_digests() -> list[dict]:
    path = _file()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class DigestVerdict:
    intact: bool
    checked: int
    problem: str = ""


def verify_digests() -> DigestVerdict:
    """Each signed head must still be the chain's hash at that seq."""
    digests = read_digests()
    hashes = dict(AuditEvent.objects.filter(seq__in=[d["seq"] for d in digests]).values_list("seq", "hash"))
    for checked, entry in enumerate(digests):
        if not hmac.compare_digest(_sign(entry["seq"], entry["hash"], entry["at"]), entry["signature"]):
            return DigestVerdict(False, checked, f"the digest of {entry['at']} is not signed with the digest key")
        if hashes.get(entry["seq"]) != entry["hash"]:
            return DigestVerdict(False, checked, f"event {entry['seq']} no longer has the hash signed at "
                                                 f"{entry['at']}: the trail was rewritten")
    return DigestVerdict(True, len(digests))
