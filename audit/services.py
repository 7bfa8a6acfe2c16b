"""The one way anything is written to the audit trail: `record(...)`."""

import ipaddress
import json

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .chain import GENESIS, digest
from .digest import seal, sign_head
from .middleware import current_request
from .models import AuditEvent

_PG_CHAIN_LOCK = 7_240_411  # advisory lock id: one writer extends the chain at a time


def _lock_chain() -> None:
    """Serialise writers. SQLite: our transactions BEGIN IMMEDIATE, which already holds the write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_CHAIN_LOCK])


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the nearest X-Forwarded-For hop when REMOTE_ADDR is a configured trusted proxy."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = set(getattr(settings, "TRUSTED_PROXIES", ()))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote in trusted and forwarded:
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if hop not in trusted:
                remote = hop
                break
    try:
        return str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        return None


def _printable(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def record(event: str, outcome: str, *, request=None, actor=None, device=None, target=None,
           operation_id: int | None = None, reason: str = "", detail: dict | None = None) -> AuditEvent:
    """Append one event. `target` is the object acted on when it is not a device (a user, a role).
    Who, from where and in which request come from the request being served (`request`, or the
    current one set by audit.middleware); jobs have none.

    Never pass secrets in `detail`. Call it outside any transaction that may roll back when the
    event must survive a failure (a denied or failed attempt).
    """
    request = request if request is not None else current_request.get()
    if actor is None and request is not None and getattr(request, "user", None) is not None \
            and request.user.is_authenticated:
        actor = request.user
    subject = device if device is not None else target
    if request is not None and (via := getattr(request, "auth_via", "")):  # e.g. "token rp_AbCdEfGh"
        detail = {**(detail or {}), "via": via}
    values = {
        "actor_id": actor.pk if actor is not None else None,
        "actor_username": actor.get_username() if actor is not None else "",
        "actor_type": "CUSTOMER" if actor is not None else "SYSTEM",
        "source_ip": client_ip(request) if request is not None else None,
        "request_id": getattr(request, "request_id", "") if request is not None else "",
        "event": event,
        "outcome": AuditEvent.Outcome(outcome).value,
        "object_type": subject._meta.model_name if subject is not None else "",
        "object_id": str(subject.pk) if subject is not None else "",
        "object_label": str(subject)[:511] if subject is not None else "",
        "device_id": device.pk if device is not None else None,
        "operation_id": operation_id,
        "reason": _printable(reason),
        # Round-trip through JSON so the hash covers exactly what the database will give back; NUL
        # characters (from hostile input) cannot be stored by PostgreSQL, so they are shown as U+FFFD.
        "detail": json.loads(json.dumps(detail or {}, default=str).replace("\\u0000", "\\ufffd")),
    }
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
        values["seq"] = last["seq"] + 1 if last else 1
        values["created_at"] = timezone.now()
        prev_hash = last["hash"] if last else GENESIS
        row_hash = digest(values, prev_hash)
        event = AuditEvent.objects.create(prev_hash=prev_hash, hash=row_hash, seal=seal(values["seq"], row_hash),
                                          **values)
        transaction.on_commit(lambda: sign_head(event.seq, row_hash))
        return event

