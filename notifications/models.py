import secrets

from django.conf import settings
from django.db import models


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Notice(models.Model):
    """One piece of workflow news, kept in the operation's own transaction (an outbox): a notice is
    dispatched once, and one whose dispatch job was lost is swept up by the cron."""

    event = models.CharField(max_length=40)
    operation = models.ForeignKey("workflows.Operation", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dispatched_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} (operation {self.operation_id})"


class Webhook(models.Model):
    """An endpoint the owner configured: JSON, signed with HMAC-SHA256, for the events chosen."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    events = models.JSONField(default=list)
    slack_format = models.BooleanField(default=False, help_text="A Slack-compatible body ({\"text\": …}).")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One notice to one webhook or one mailbox, with what came of each attempt."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    notice = models.ForeignKey(Notice, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries")
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # a notice reaches each webhook and each person once, however often it is dispatched
            models.UniqueConstraint(fields=["notice", "webhook"], name="one_delivery_per_webhook"),
            models.UniqueConstraint(fields=["notice", "recipient"], name="one_delivery_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.event} by {self.channel} ({self.status})"


class Preference(models.Model):
    """What one person receives by email: events of their own operations, or of every device they can see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    events = models.JSONField(default=list)
    every_device = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Notifications of {self.user}"
