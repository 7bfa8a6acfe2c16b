"""Reads of the audit trail for review: filtered, keyset-paged (no COUNT over the table), exported."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from .models import AuditEvent

PAGE_SIZE = 50
SEARCH_EXPRESSION = '("audit_auditevent"."reason" || \' \' || "audit_auditevent"."detail"::text)'


def search_text(queryset: QuerySet[AuditEvent], text: str) -> QuerySet[AuditEvent]:
    """Free text over the reason and the details, case-insensitive. On PostgreSQL the expression
    is the one the trigram index of migration 0008 was made on, so a term of three letters or more
    is found by index; SQLite reads every row."""
    if connection.vendor == "postgresql":
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return queryset.filter(RawSQL(f"{SEARCH_EXPRESSION} ILIKE %s", [pattern], output_field=BooleanField()))
    return queryset.annotate(detail_text=Cast("detail", TextField())).filter(
        Q(reason__icontains=text) | Q(detail_text__icontains=text))


@dataclass
class Page:
    rows: list
    older: int | None  # pass as ?before= for the next (older) page
    newer: int | None  # pass as ?after= for the previous (newer) page


def keyset_page(queryset: QuerySet, before: int | None = None, after: int | None = None,
                size: int = PAGE_SIZE, key: str = "seq") -> Page:
    """Newest first by `key` (a unique, growing number: the trail's seq, an operation's id); one
    query of size + 1 rows however deep the page, never a COUNT or an OFFSET."""
    if after is not None:
        rows = list(queryset.filter(**{f"{key}__gt": after}).order_by(key)[: size + 1])
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        return Page(rows, getattr(rows[-1], key) if rows else None,
                    getattr(rows[0], key) if rows and more_newer else None)
    if before is not None:
        queryset = queryset.filter(**{f"{key}__lt": before})
    rows = list(queryset.order_by(f"-{key}")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return Page(rows, getattr(rows[-1], key) if rows and more_older else None,
                getattr(rows[0], key) if rows and before else None)


def between_dates(queryset: QuerySet[AuditEvent], since: date | None = None,
                  until: date | None = None) -> QuerySet[AuditEvent]:
    """Events of the days `since`..`until` (UTC, inclusive) as a range of seq, which the page's
    newest-first scan walks by index at any depth of the trail. A row's time and number are both
    taken under the chain's lock (audit.services.record), so they grow together; the times are
    still compared, so a clock set back cannot bring in a row from outside the days asked."""
    if since is not None:
        start = datetime.combine(since, dt_time.min, tzinfo=UTC)
        first = AuditEvent.objects.filter(created_at__gte=start).order_by("created_at").values_list(
            "seq", flat=True).first()
        queryset = queryset.filter(seq__gte=first if first is not None else 2**62, created_at__gte=start)
    if until is not None and until < date.max:  # the last day there is: no upper bound
        end = datetime.combine(until + timedelta(days=1), dt_time.min, tzinfo=UTC)
        last = AuditEvent.objects.filter(created_at__lt=end).order_by("-created_at").values_list(
            "seq", flat=True).first()
        queryset = queryset.filter(seq__lte=last if last is not None else 0, created_at__lt=end)
    return queryset


def device_timeline(device, limit: int = 20) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(device_id=device.pk).order_by("-seq")[:limit])


def operation_story(operation) -> list[AuditEvent]:
    """Every event of the operation, of the Restart or Continue that ended it (who, how), and the
    reveals of the device's password while it lasted."""
    end = getattr(operation, "exited_at", None)
    reveals = Q(device_id=operation.device_id, event="device.credentials.reveal",
                created_at__gte=operation.created_at)
    if end:
        reveals &= Q(created_at__lte=end)
    ended_by = Q(operation_id=operation.ended_by_id) if getattr(operation, "ended_by_id", None) else Q(pk__in=[])
    return list(AuditEvent.objects.filter(Q(operation_id=operation.pk) | ended_by | reveals).order_by("seq"))
