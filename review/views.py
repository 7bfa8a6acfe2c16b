import csv
import json

from django.db import connection
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.capabilities import USER_EVENT_LOG_VIEW
from accounts.decorators import requires
from audit import selectors as trail
from audit import triggers
from audit.integrity import check as integrity_check
from audit.models import AuditEvent
from audit.services import record
from workflows.models import Operation

from . import selectors
from .filters import AuditFilter
from .forms import RescueFilterForm

EXPORT_FIELDS = ["seq", "created_at", "actor_username", "actor_type", "source_ip", "request_id", "event", "outcome",
                 "object_type", "object_id", "object_label", "device_id", "operation_id", "reason", "detail", "hash"]


reviewer_only = requires(USER_EVENT_LOG_VIEW, event="audit.view",
                         reason="You need the View Event Log permission to review the audit trail.")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_safe
@reviewer_only
def audit_log(request):
    events = AuditFilter(request.GET, queryset=AuditEvent.objects.all())
    page = trail.keyset_page(events.qs, before=_int(request.GET.get("before")),
                                 after=_int(request.GET.get("after")))
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return render(request, "audit/log.html", {"filter": events, "page": page, "query": query.urlencode()})


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A text cell that a spreadsheet would run as a formula gets a leading ' (OWASP's CSV injection
    advice); JSON Lines keeps every value exact."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _export_rows(queryset, fmt: str):
    """Rows as plain tuples, read 2,000 at a time: memory stays flat whatever the size."""
    rows = queryset.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
    if fmt == "csv":
        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())
        detail = EXPORT_FIELDS.index("detail")
        yield writer.writerow(EXPORT_FIELDS)
        for row in rows:
            row = list(row)
            row[detail] = json.dumps(row[detail])
            yield writer.writerow([spreadsheet_safe(value) for value in row])
    else:
        for row in rows:
            yield json.dumps(dict(zip(EXPORT_FIELDS, row, strict=True)), default=str) + "\n"


@require_safe
@reviewer_only
def export(request, fmt: str):
    """The current filter, streamed (rows are read in chunks, never all at once); audited first."""
    events = AuditFilter(request.GET, queryset=AuditEvent.objects.all())
    filters = {k: v for k, v in request.GET.items() if v}
    record("audit.export", "succeeded", request=request, detail={"format": fmt, "filter": filters})
    queryset = events.qs.order_by("seq")
    content_type = "text/csv" if fmt == "csv" else "application/jsonl"
    response = StreamingHttpResponse(_export_rows(queryset, fmt), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{"csv" if fmt == "csv" else "jsonl"}"'
    return response


@require_safe
@reviewer_only
def rescues(request):
    operations = selectors.matching_rescues(Operation.objects.all(), RescueFilterForm(request.GET).filters())
    page = trail.keyset_page(operations, before=_int(request.GET.get("before")),
                             after=_int(request.GET.get("after")), key="pk")
    now = timezone.now()
    for op in page.rows:
        op.seconds_in_rescue = selectors.time_in_rescue(op, now)
    query = request.GET.copy()
    for key in ("before", "after", "page"):
        query.pop(key, None)
    return render(request, "audit/rescues.html", {"page": page, "states": Operation.State.choices,
                                                  "params": request.GET, "query": query.urlencode()})


@require_safe
@reviewer_only
def story(request, pk: int):
    op = get_object_or_404(Operation.objects.select_related("device", "requested_by"), pk=pk)
    if op.kind in (Operation.Kind.RESCUE, Operation.Kind.BOOT_IMAGE):
        op = selectors.past_rescues(Operation.objects.filter(pk=pk)).get()
        op.seconds_in_rescue = selectors.time_in_rescue(op, timezone.now())
    return render(request, "audit/story.html", {"op": op, "events": trail.operation_story(op)})


@require_safe
@reviewer_only
def integrity(request):
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    since = 1 if request.GET.get("full") else max(1, head - 10_000 + 1)
    verdict, digests = integrity_check(since)
    return render(request, "audit/integrity.html", {"verdict": verdict, "since": since, "head": head,
                                                    "digests": digests, "unguarded": triggers.missing(connection)})
