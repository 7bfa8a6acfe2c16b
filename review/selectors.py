"""Reads that join the trail to operations: past rescues and their time in rescue."""

from django.db.models import Count, DateTimeField, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Now

from audit.models import AuditEvent
from workflows.models import Operation


def past_rescues(queryset):
    """Rescue and boot-from-image operations with when they reached rescue, when the device left it
    (the Restart or Continue that ended it), and the password reveals in between."""
    queryset = queryset.filter(kind__in=[Operation.Kind.RESCUE, Operation.Kind.BOOT_IMAGE])
    reveal_counts = AuditEvent.objects.filter(
        device_id=OuterRef("device_id"), event="device.credentials.reveal", outcome="succeeded",
        created_at__gte=OuterRef("created_at"),
        created_at__lte=Coalesce(OuterRef("exited_at"), Now(), output_field=DateTimeField()),
    ).order_by().values("device_id").annotate(n=Count("pk")).values("n")
    return queryset.annotate(
        reveals=Coalesce(Subquery(reveal_counts[:1]), Value(0)),
        reached_rescue=F("finished_at"),
    ).select_related("device", "requested_by", "ended_by__requested_by").order_by("-created_at")


def matching_rescues(queryset, wanted: dict):
    """Past rescues narrowed by the filters people use (device name, who asked, state)."""
    if device := wanted.get("device"):
        queryset = queryset.filter(device__fqdn__icontains=device)
    if who := wanted.get("actor"):
        queryset = queryset.filter(requested_by__username__iexact=who)
    if state := wanted.get("state"):
        queryset = queryset.filter(state=state)
    return past_rescues(queryset)


def time_in_rescue(operation, now) -> float | None:
    """Seconds between reaching rescue and leaving it (or now, while still in it)."""
    if operation.state not in Operation.REACHED_STATES or not operation.finished_at:
        return None
    return ((operation.exited_at or now) - operation.finished_at).total_seconds()
