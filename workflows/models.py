from django.conf import settings
from django.db import models
from django.db.models import Q


class Operation(models.Model):
    """One rescue-related request on one device: the source of truth (RQ only carries its id).

    A partial unique constraint allows one active operation per device, so a double click or two
    browsers make one operation, not two.
    """

    class Kind(models.TextChoices):
        RESCUE = "rescue", "Rescue mode"
        BOOT_IMAGE = "boot_image", "Boot from image"
        UNLOAD_IMAGE = "unload_image", "Continue (unload the image)"
        RESTART = "restart", "Restart"

    class State(models.TextChoices):
        QUEUED = "queued", "Requested"
        SUBMITTING = "submitting", "Submitting to SoftLayer"
        POWERING_DOWN = "powering_down", "Powering down"
        BOOTING = "booting", "Booting"
        IN_RESCUE = "in_rescue", "In rescue"
        IMAGE_MOUNTED = "image_mounted", "Booted from the image"
        NORMAL = "normal", "Back to normal"
        EXITED = "exited", "Exited"  # a rescue or image boot that a later Restart or Continue ended
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATES = (State.QUEUED, State.SUBMITTING, State.POWERING_DOWN, State.BOOTING)
    IN_FLIGHT_STATES = (State.POWERING_DOWN, State.BOOTING)

    device = models.ForeignKey("devices.Device", on_delete=models.PROTECT, related_name="operations")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    iso_image_id = models.BigIntegerField(null=True, blank=True)
    iso_image_name = models.CharField(max_length=255, blank=True)
    rescue_os = models.CharField(max_length=255, blank=True)
    provider_transaction_id = models.BigIntegerField(null=True, blank=True)
    provider_status = models.CharField(max_length=255, blank=True, help_text="The transaction's friendlyName.")
    provider_estimate_seconds = models.PositiveIntegerField(null=True, blank=True)
    saw_transaction = models.BooleanField(default=False)
    saw_power_off = models.BooleanField(default=False)
    submit_attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    device_status_before = models.CharField(max_length=32, blank=True,
                                            help_text="The device's status when asked; restored if nothing was sent.")
    ended_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="ended",
                                 help_text="The Restart or Continue that took the device out of this rescue.")
    exited_at = models.DateTimeField(null=True, blank=True)
    confirmation = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False,
                                    help_text="The nonce of the Yes that asked for it: a replayed Yes is refused.")
    provider_problem = models.CharField(max_length=500, blank=True,
                                        help_text="Why the portal is waiting; cleared when SoftLayer answers.")
    created_at = models.DateTimeField(auto_now_add=True)
    submit_started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    unanswered_submit_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When a submit whose answer never came began; nothing is sent again until SoftLayer's state shows "
                  "it did not take, for SOFTLAYER_SUBMIT_SETTLE_SECONDS.")
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    deadline_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["device"], condition=Q(state__in=[
                "queued", "submitting", "powering_down", "booting"]), name="one_active_operation_per_device"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.device} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES
