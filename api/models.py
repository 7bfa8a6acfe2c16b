"""Personal access tokens, and the POSTs made with an Idempotency-Key (written by api.services only)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    READ = "read", "Read: see the devices, operations and (for reviewers and managers) the audit trail and users"
    OPERATE = "operate", "Operate: Rescue mode, Boot from image, Restart, Continue, extend and end sessions"
    REVEAL = "reveal", "Reveal: show a device's passwords (still asks for your password or code each time)"
    MANAGE = "manage", "Manage: change users' roles and device access (if you may in the browser)"


class AccessToken(models.Model):
    """What the token may do is the user's access, narrowed by its scopes. Only a digest of the
    secret is kept: the token is shown once, when it is made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="The public start of the token, to find it.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the whole token.")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class IdempotentRequest(models.Model):
    """A POST made with an Idempotency-Key: the same key and body are answered with the first
    answer; the same key with another body is refused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while it is answered.")
    body = models.JSONField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_request_per_idempotency_key")]
        indexes = [models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'in progress'})"
