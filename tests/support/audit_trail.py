"""A long, valid audit trail made in bulk (100,000 record() calls would take minutes): chained and
sealed as record() does; its head is not signed (the test signs it, or sees it as not yet signed)."""

import random
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.db import connection as default_connection
from django.test import TestCase

from audit import triggers
from audit.chain import GENESIS, digest
from audit.digest import seal
from audit.models import AuditEvent
from audit.services import record

EVENTS = ["auth.login", "device.rescue", "device.restart", "device.credentials.reveal", "user.permission.grant"]
OUTCOMES = ["requested", "succeeded", "failed", "denied"]


def bulk_trail(count: int, devices=(), usernames=("alice", "bob", "carol"), seed: int = 1,
               start: datetime | None = None) -> None:
    rng = random.Random(seed)
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
    moment = start or datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        device = rng.choice(devices) if devices and rng.random() < 0.7 else None
        values = {
            "seq": seq + i, "created_at": moment + timedelta(seconds=30 * i), "actor_id": None,
            "actor_username": rng.choice(usernames), "actor_type": "CUSTOMER",
            "source_ip": f"192.0.2.{rng.randint(1, 254)}", "request_id": f"{rng.getrandbits(64):016x}",
            "event": rng.choice(EVENTS), "outcome": rng.choice(OUTCOMES),
            "object_type": "device" if device else "", "object_id": str(device.pk) if device else "",
            "object_label": device.fqdn if device else "", "device_id": device.pk if device else None,
            "operation_id": None, "reason": rng.choice(["", "", "disk full", "kernel panic", "lost ssh key"]),
            "detail": {"n": i},
        }
        current = digest(values, prev)
        rows.append(AuditEvent(prev_hash=prev, hash=current, seal=seal(values['seq'], current), **values))
        prev = current
        if len(rows) == 5000:
            AuditEvent.objects.bulk_create(rows)
            rows = []
    AuditEvent.objects.bulk_create(rows)


@contextmanager
def guard_lifted(connection=None):
    """Lift the append-only triggers for a moment, as someone with database access could (to tamper,
    or to empty a test database), then put back exactly the triggers that were there: a guard the
    migrations did not make is never made here."""
    connection = connection or default_connection
    saved = triggers.definitions(connection)
    with connection.cursor() as cursor:
        for name in saved:
            cursor.execute(f"DROP TRIGGER {name}" + (f" ON {triggers.TABLE}" if connection.vendor == "postgresql"
                                                      else ""))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in saved.values():
                cursor.execute(sql)


def recorded(count: int = 5, event: str = "test.event") -> list[AuditEvent]:
    """`count` events written through record(), with the commit hooks run as in production: each
    one signs the head (a test's own transaction never commits, so they are run here)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return [record(event, "succeeded", detail={"n": i, "text": "café ünïcode"}) for i in range(count)]
