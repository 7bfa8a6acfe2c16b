from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Audit rows are never changed or removed, by any code path."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Audit events cannot be updated.")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be updated.")


class AuditEvent(models.Model):
    """One event of the tamper-evident trail, shaped like SoftLayer's Event Log.

    Written only by audit.services.record(); each row's `hash` covers its content and the
    previous row's hash, so an edited, removed or inserted row breaks the chain (verify_audit).
    Links to users and devices are kept without database cascades, with name snapshots, so
    nothing ever has to touch a written row.
    """

    class Outcome(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        DENIED = "denied", "Denied"

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True)
    actor_type = models.CharField(max_length=16, default="CUSTOMER")  # CUSTOMER or SYSTEM, as the Event Log
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    event = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=511, blank=True)
    device_id = models.BigIntegerField(null=True, blank=True, db_index=True)  # a plain id: no device model here
    operation_id = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # HMAC of (seq, hash) under a key the database does not hold (audit.digest); null on rows
    # written before seals existed.
    seal = models.CharField(max_length=64, null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        # Each filter of the review page, newest first, is an index range scan in seq order.
        indexes = [
            models.Index(fields=["device_id", "-seq"], name="audit_audit_device__455a44_idx"),
            models.Index(fields=["actor", "-seq"]),
            models.Index(fields=["event", "-seq"]), models.Index(fields=["outcome", "-seq"]),
            models.Index(fields=["event", "outcome", "-seq"]), models.Index(fields=["actor_username", "-seq"]),
            models.Index(fields=["operation_id", "seq"]),
            # Past rescues count each rescue's password reveals: one device, one event, a time range.
            models.Index(fields=["device_id", "event", "created_at"], name="audit_reveals_in_range_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")
