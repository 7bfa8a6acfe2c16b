"""What the database cannot forge: a seal on every row, and a signed head kept outside it.

The hash chain alone catches an edit in the middle, but someone who can write to the database can
recompute it: append rows with correct hashes, rewrite the whole table, or cut off its tail. So:

- every row carries a **seal**, HMAC-SHA256 of its (seq, hash) under a key that is not in the
  database (`AUDIT_DIGEST_KEY`, or `VAR_DIR/audit_digest_key`). The hash covers every earlier row,
  so a valid seal vouches for the whole chain up to it; a row written without the key has none
  that holds;
- after each commit the writer signs the new **head** (seq, hash) into `head.json` beside the
  digests (`AUDIT_DIGEST_DIR`): rows removed from the end leave a signed head the database no
  longer reaches. Rows after the signed head are shown as "not yet signed" (a writer stopped
  between its commit and the signature), never as intact-and-signed;
- every `AUDIT_DIGEST_INTERVAL_SECONDS` the head is also appended to `digests.jsonl`, a dated
  history; `head.json` counts its lines, so an emptied or truncated history is caught.

The key and the files belong on the application hosts (or a write-once store), never on the
database host: whoever holds both can forge anything.
"""

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent

log = logging.getLogger(__name__)


def _key() -> bytes:
    if settings.AUDIT_DIGEST_KEY:
        return settings.AUDIT_DIGEST_KEY.encode()
    key_file = Path(settings.VAR_DIR) / "audit_digest_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()


def _directory() -> Path:
    directory = Path(settings.AUDIT_DIGEST_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _history_file() -> Path:
    return _directory() / "digests.jsonl"


def _head_file() -> Path:
    return _directory() / "head.json"


def _mac(text: str) -> str:
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def seal(seq: int, head_hash: str) -> str:
    return _mac(f"row:{seq}:{head_hash}")


def seal_holds(event) -> bool:
    return bool(event.seal) and hmac.compare_digest(seal(event.seq, event.hash), event.seal)


def legacy_until() -> int:
    """Rows up to this seq were written before seals and may have none (the signed head says so)."""
    head = read_head()
    return int(head.get("legacy_until", 0)) if head and _head_signed(head) else 0


def _sign(seq: int, head_hash: str, at: str) -> str:
    return _mac(f"{seq}:{head_hash}:{at}")


def _sign_head(head: dict) -> str:
    return _mac(f"head:{head['seq']}:{head['hash']}:{head['at']}:{head['history']}:{head['legacy_until']}:"
                f"{head.get('restarted_at')}")


@contextmanager
def _locked():
    """One writer of head.json and digests.jsonl at a time, across processes."""
    with (_directory() / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_head() -> dict | None:
    path = _head_file()
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}


def _write_head(seq: int, head_hash: str, history: int, legacy_until: int, restarted_at: int | None = None) -> None:
    head = {"seq": seq, "hash": head_hash, "at": timezone.now().isoformat(), "history": history,
            "legacy_until": legacy_until, "restarted_at": restarted_at}
    head["signature"] = _sign_head(head)
    temporary = _head_file().with_suffix(".tmp")
    temporary.write_text(json.dumps(head))
    os.replace(temporary, _head_file())


def _still_in_chain(head: dict) -> bool:
    """The signed head is still a row of the table, with the hash it was signed with."""
    return AuditEvent.objects.filter(seq=head.get("seq"), hash=head.get("hash")).exists()


def sign_head(seq: int, head_hash: str) -> None:
    """Run after each commit of a row: the signed head moves forward, never back (writers race),
    and only from a head the chain still reaches: rows cut from the end stay reported as removed,
    however many are written after. A missing head file is started again at this row, and the head
    says so (`restarted_at`), for the Integrity page to show."""
    try:
        with _locked():
            current = read_head()
            if current is not None and int(current.get("seq", 0)) >= seq:
                return
            if current is not None and not _still_in_chain(current):
                log.error("The signed audit head (event %s) is no longer in the trail: not moving it to event %s",
                          current.get("seq"), seq)
                return
            restarted = None if current is not None or seq == 1 else seq
            if restarted:
                log.error("The signed audit head was missing: starting it again at event %s", seq)
            _write_head(seq, head_hash, int((current or {}).get("history", 0)),
                        int((current or {}).get("legacy_until", 0)),
                        restarted_at=(current or {}).get("restarted_at") or restarted)
    except OSError as exc:  # the row is committed and sealed; the Integrity page shows it as not yet signed
        log.error("Could not sign the audit head at event %s: %s", seq, exc)


def sign_trail_from_before_seals(seq: int, head_hash: str) -> None:
    """Once, when seals arrive (migration audit 0005): sign the head of a trail whose rows have no
    seal. Rows up to it stay unsealed; every later one must carry a seal."""
    with _locked():
        if read_head() is None:
            _write_head(seq, head_hash, len(read_digests()), legacy_until=seq)


def write_digest() -> dict | None:
    """Append the current head to the dated history; None when the trail is empty or the head was
    already there."""
    head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    if head is None:
        return None
    with _locked():
        history = read_digests()
        if history and history[-1].get("seq") == head["seq"]:
            return None
        current = read_head() or {}
        if len(history) < int(current.get("history", 0)):  # truncated: keep saying so, never count afresh
            log.error("The audit digest history holds %s of %s digests: not adding to it", len(history),
                      current.get("history"))
            return None
        if current and not _still_in_chain(current):
            log.error("The signed audit head (event %s) is no longer in the trail: not signing", current.get("seq"))
            return None
        at = timezone.now().isoformat()
        entry = {"seq": head["seq"], "hash": head["hash"], "at": at, "signature": _sign(head["seq"], head["hash"], at)}
        with _history_file().open("a") as out:
            out.write(json.dumps(entry) + "\n")
        newest = max((int(current.get("seq", 0)), current.get("hash", "")), (head["seq"], head["hash"]))
        _write_head(newest[0], newest[1], len(history) + 1, int(current.get("legacy_until", 0)),
                    restarted_at=current.get("restarted_at") if current else (head["seq"] if head["seq"] > 1 else None))
    return entry


def read_digests() -> list[dict]:
    path = _history_file()
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                entries.append({})
    return entries


@dataclass
class DigestVerdict:
    intact: bool
    checked: int  # dated digests that match
    problem: str = ""
    signed_seq: int = 0  # the signed head
    not_yet_signed: int = 0  # rows after it
    legacy_until: int = 0  # rows up to here predate seals
    restarted_at: int | None = None  # the head file was missing and started again at this event


def verify_digests() -> DigestVerdict:
    """The signed head is still reached by the chain, and every dated digest is still in it."""
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    head = read_head()
    history = read_digests()
    if head is None:
        if last is not None:  # every commit signs the head; the trail's first rows made the file
            return DigestVerdict(False, 0, f"the signed head ({_head_file()}) is missing")
        return DigestVerdict(True, 0)
    if not _head_signed(head):
        return DigestVerdict(False, 0, f"the signed head ({_head_file()}) is not signed with the digest key")
    reached = AuditEvent.objects.filter(seq=head["seq"]).values_list("hash", flat=True).first()
    if reached != head["hash"]:
        what = "removed" if reached is None else "rewritten"
        return DigestVerdict(False, 0, f"event {head['seq']}, signed as the head at {head['at']}, was {what}",
                             head["seq"])
    if len(history) < head["history"]:
        return DigestVerdict(False, 0, f"the digest history ({_history_file()}) holds {len(history)} of the "
                                       f"{head['history']} digests written: it was truncated", head["seq"])
    hashes = dict(AuditEvent.objects.filter(seq__in=[d.get("seq") for d in history]).values_list("seq", "hash"))
    for checked, entry in enumerate(history):
        try:
            signed = hmac.compare_digest(_sign(entry["seq"], entry["hash"], entry["at"]), entry["signature"])
        except KeyError:
            signed = False
        if not signed:
            return DigestVerdict(False, checked, f"digest {checked + 1} is not signed with the digest key",
                                 head["seq"])
        if hashes.get(entry["seq"]) != entry["hash"]:
            return DigestVerdict(False, checked, f"event {entry['seq']} no longer has the hash signed at "
                                                 f"{entry['at']}: the trail was rewritten", head["seq"])
    signed_seq = max([head["seq"], *(entry["seq"] for entry in history)])
    return DigestVerdict(True, len(history), signed_seq=signed_seq,
                         not_yet_signed=(last["seq"] if last else 0) - signed_seq,
                         legacy_until=int(head.get("legacy_until", 0)), restarted_at=head.get("restarted_at"))


def _head_signed(head: dict) -> bool:
    try:
        return hmac.compare_digest(_sign_head(head), str(head.get("signature", "")))
    except (KeyError, TypeError):
        return False
