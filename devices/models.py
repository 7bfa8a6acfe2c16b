from django.db import models


class Device(models.Model):
    """A mirror of one virtual server or bare metal server of the SoftLayer account.

    Rows are written only by devices.services (the sync, and what the workflows report through it);
    a device that disappears from the account keeps its row, marked `vanished_at`, because its
    history must stay.
    """

    class Kind(models.TextChoices):
        VIRTUAL = "virtual", "Virtual server"
        BARE_METAL = "bare_metal", "Bare metal"

    class OsFamily(models.TextChoices):
        LINUX = "linux", "Linux"
        WINDOWS = "windows", "Windows"
        OTHER = "other", "Other"

    class Power(models.TextChoices):
        ON = "on", "Running"
        OFF = "off", "Halted"
        UNKNOWN = "unknown", "Unknown"

    class Status(models.TextChoices):
        NORMAL = "normal", "Normal"
        RESCUE_IN_PROGRESS = "rescue_in_progress", "Rescue in progress"
        IN_RESCUE = "in_rescue", "In rescue"
        IMAGE_MOUNTED = "image_mounted", "Image mounted"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    provider_id = models.BigIntegerField(help_text="The id of the guest or hardware at SoftLayer.")
    hostname = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True)
    fqdn = models.CharField("name", max_length=511, db_index=True)
    datacenter = models.CharField(max_length=64, blank=True, db_index=True)
    datacenter_long_name = models.CharField(max_length=128, blank=True)
    public_ip = models.GenericIPAddressField(null=True, blank=True)
    private_ip = models.GenericIPAddressField(null=True, blank=True)
    os_name = models.CharField("OS", max_length=128, blank=True)
    os_reference_code = models.CharField(max_length=64, blank=True)
    os_family = models.CharField(max_length=16, choices=OsFamily.choices, default=OsFamily.OTHER)
    memory_mb = models.PositiveIntegerField("memory (MB)", default=0)
    cpus = models.PositiveIntegerField(default=0)
    power_state = models.CharField(max_length=16, choices=Power.choices, default=Power.UNKNOWN)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.NORMAL)
    session_ends_at = models.DateTimeField(
        null=True, blank=True, help_text="When the portal ends the rescue session the device is in (its time limit).")
    provider_transaction = models.CharField(
        max_length=255, blank=True, help_text="friendlyName of the provider's active transaction."
    )
    provisioned_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    observed_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the newest look behind status, power and transaction began: an older look never "
                  "overwrites them (a sync that read its list before a poll does not undo the poll).")
    vanished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["fqdn", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "provider_id"], name="device_unique_provider_id")
        ]
        indexes = [
            models.Index(fields=["kind", "os_family"]),
            models.Index(fields=["status"]),
            models.Index(fields=["power_state"]),
            # The Device List's default order, its memory sort, and its Location choices (read as
            # a covering index rather than every row): bench/list_bench.py at 10,000 devices.
            models.Index(fields=["fqdn", "id"]),
            models.Index(fields=["memory_mb"]),
            models.Index(fields=["datacenter", "datacenter_long_name", "vanished_at"]),
        ]

    def __str__(self) -> str:
        return self.fqdn

    @property
    def is_virtual(self) -> bool:
        return self.kind == self.Kind.VIRTUAL


class InventorySync(models.Model):
    """One run of the inventory sync: what it found and how many API calls it took."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    vanished = models.PositiveIntegerField(default=0)
    restored = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"sync at {self.started_at:%Y-%m-%d %H:%M:%S}"
