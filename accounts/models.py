from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Capability(models.Model):
    """A classic infrastructure permission (see accounts.capabilities, which seeds this table)."""

    key = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=64)

    class Meta:
        ordering = ["department", "name"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A named bundle of capabilities (Viewer, Operator, Auditor, User manager, or the account's own)."""

    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True)
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="roles")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PortalUserManager(UserManager):
    def get_by_natural_key(self, username):
        """Sign-in ignores case, as names are unique ignoring case ("Alice" and "alice" are one user)."""
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A user of the one SoftLayer account this portal serves.

    Exactly one user is the account owner (the console's master user): a partial unique
    constraint makes a second one impossible, whatever code path tries. What a user may do is
    decided only by accounts.policy, from `roles`, `capabilities` and `devices`.
    """

    is_account_owner = models.BooleanField(default=False)
    must_change_password = models.BooleanField(
        default=False, help_text="Set by a reset: the one-time password given out must be replaced at sign-in.")
    objects = PortalUserManager()
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="users",
                                          help_text="Capabilities granted directly, besides the roles'.")
    devices = models.ManyToManyField("devices.Device", blank=True, related_name="users",
                                     help_text="Devices this user has access to.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_account_owner"],
                condition=Q(is_account_owner=True),
                name="one_account_owner",
            ),
            # "Alice" and "alice" are one name, whichever code path (or two requests at once) tries.
            models.UniqueConstraint(Lower("username"), name="username_unique_ignoring_case"),
        ]


class TwoFactorRule(models.Model):
    """Who must have a second factor, set by the account owner. One row, made by migration 0006."""

    class AppliesTo(models.TextChoices):
        NOBODY = "nobody", "Nobody (each user chooses)"
        EVERYONE = "everyone", "Everyone"
        CAPABILITIES = "capabilities", "Holders of the chosen permissions"

    applies_to = models.CharField(max_length=16, choices=AppliesTo.choices, default=AppliesTo.NOBODY)
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="+",
                                          help_text="With 'holders of the chosen permissions': any one of these.")
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.get_applies_to_display()


class ExternalIdentity(models.Model):
    """A person of the OpenID Connect provider, known by (issuer, subject): never by email, which
    a provider may let people change, so nobody takes over a local account by naming its address."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    groups = models.JSONField(default=list, blank=True, help_text="The provider's groups at the last sign-in.")
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_external_identity")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class GroupMapping(models.Model):
    """What a group of the single sign-on provider gives in the portal: roles and device access.
    A user who signs in through the provider gets the union of their groups' mappings, each time."""

    group = models.CharField(max_length=150, unique=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="+")
    devices = models.ManyToManyField("devices.Device", blank=True, related_name="+")

    class Meta:
        ordering = ["group"]

    def __str__(self) -> str:
        return self.group
