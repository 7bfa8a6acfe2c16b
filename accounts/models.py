from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    """A user of the one SoftLayer account this portal serves.

    Exactly one user is the account owner (the console's master user): a partial unique
    constraint makes a second one impossible, whatever code path tries.
    """

    is_account_owner = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_account_owner"],
                condition=Q(is_account_owner=True),
                name="one_account_owner",
            )
        ]
