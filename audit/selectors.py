"""Reads of the audit trail for review: filtered, keyset-paged (no COUNT over the table), exported."""

from dataclasses import dataclass

from django.db.models import (
    Q,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast

from .models import AuditEvent

PAGE_SIZE = 50


def search_text(queryset: QuerySet[AuditEvent], text: str) -> QuerySet[AuditEvent]:
    """Free text over the reason and the details."""
    return queryset.annotate(detail_text=Cast("detail", TextField())).filter(
        Q(reason__icontains=text) | Q(detail_text__icontains=text))


@dataclass
class Page:
    rows: list[AuditEvent]
    older: int | None  # pass as ?before= for the next (older) page
    newer: int | None  # pass as ?after= for the previous (newer) page


def keyset_page(queryset: QuerySet[AuditEvent], before: int | None = None, after: int | None = None,
                size: int = PAGE_SIZE) -> Page:
    """Newest first by seq; one query of size + 1 rows, however deep the page."""
    if after is not None:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[: size + 1])
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        return Page(rows, rows[-1].seq if rows else None, rows[0].seq if rows and more_newer else None)
    if before is not None:
        queryset = queryset.filter(seq__lt=before)
    rows = list(queryset.order_by("-seq")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].seq if rows and more_older else None, rows[0].seq if rows and before else None)


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
