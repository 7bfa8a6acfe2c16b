from django.conf import settings
from django.db import models
from django.db.models import Q


class State(models.TextChoices):
    """The states of an operation, their labels, and the moves between them: the one definition."""

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


# Where each state may go. An operation that has ended (no move out) is never written again but
# for IN_RESCUE / IMAGE_MOUNTED → EXITED, which a later Restart or Continue records.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.QUEUED: frozenset({State.SUBMITTING, State.FAILED, State.CANCELLED}),
    State.SUBMITTING: frozenset({State.SUBMITTING, State.POWERING_DOWN, State.BOOTING, State.IN_RESCUE,
                                 State.IMAGE_MOUNTED, State.NORMAL, State.FAILED}),
    State.POWERING_DOWN: frozenset({State.BOOTING, State.IN_RESCUE, State.IMAGE_MOUNTED, State.NORMAL, State.FAILED}),
    State.BOOTING: frozenset({State.POWERING_DOWN, State.IN_RESCUE, State.IMAGE_MOUNTED, State.NORMAL, State.FAILED}),
    State.IN_RESCUE: frozenset({State.EXITED}),
    State.IMAGE_MOUNTED: frozenset({State.EXITED}),
    State.NORMAL: frozenset(),
    State.EXITED: frozenset(),
    State.FAILED: frozenset(),
    State.CANCELLED: frozenset(),
}
# Still being carried out: one per device at most (the constraint below), resumed by the reconciler.
ACTIVE_STATES = (State.QUEUED, State.SUBMITTING, State.POWERING_DOWN, State.BOOTING)
# Accepted by SoftLayer and followed by polls.
IN_FLIGHT_STATES = (State.POWERING_DOWN, State.BOOTING)
# The device got where it was asked to go (it may have left since).
REACHED_STATES = (State.IN_RESCUE, State.IMAGE_MOUNTED, State.EXITED)


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

    State = State
    ACTIVE_STATES = ACTIVE_STATES
    IN_FLIGHT_STATES = IN_FLIGHT_STATES
    REACHED_STATES = REACHED_STATES

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
    # A rescue session's time limit (rescue mode, boot from image): set at Yes, counted from the
    # moment the device is there (ends_at); the portal leaves rescue by itself at the end.
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    auto_exit_attempts = models.PositiveIntegerField(default=0)
    auto_exit_last_at = models.DateTimeField(
        null=True, blank=True, help_text="When the portal last asked for the exit at the time limit (one at a time).")
    automatic = models.BooleanField(
        default=False, help_text="Asked by the portal itself on the requester's behalf (the time limit was reached).")
    slow_notified_at = models.DateTimeField(null=True, blank=True,
                                            help_text="When people were told it has waited on SoftLayer for long.")
    exit_note = models.CharField(max_length=200, blank=True,
                                 help_text="How the session ended when no operation ended it (restarted from inside).")
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
            models.UniqueConstraint(fields=["device"], condition=Q(state__in=[str(s) for s in ACTIVE_STATES]),
                                    name="one_active_operation_per_device"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.device} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_session(self) -> bool:
        """Rescue mode or boot from image, running now: the device is where it was asked to go."""
        return self.state in (State.IN_RESCUE, State.IMAGE_MOUNTED)

    def is_in(self, *states: str) -> bool:
        """`op.is_in("in_rescue", "exited")`; a name that is not a state is an error, not a quiet False."""
        unknown = set(states) - set(State.values)
        if unknown:
            raise ValueError(f"Not operation states: {sorted(unknown)}")
        return self.state in states


class Batch(models.Model):
    """One Yes for many devices (bulk rescue from the Device List): each device gets its own
    operation, checked and audited as if asked alone; a refused device is listed, not fatal."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Operation.Kind.choices)
    reason = models.CharField(max_length=500, blank=True)
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    confirmation = models.CharField(max_length=64, unique=True, editable=False,
                                    help_text="The nonce of the Yes that asked for it: a replayed Yes is refused.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.items.count()} devices"


class BatchItem(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="items")
    device = models.ForeignKey("devices.Device", on_delete=models.PROTECT, related_name="+")
    operation = models.OneToOneField(Operation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refused = models.CharField(max_length=500, blank=True, help_text="Why this device was not asked.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "device"], name="one_item_per_device")]

    def __str__(self) -> str:
        return f"{self.device} in batch {self.batch_id}"
