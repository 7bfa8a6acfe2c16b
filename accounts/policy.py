"""The one access policy: every view, job and command asks it what a user may see or do.

The foundation has a single kind of user, the account owner, who sees every device of the
account. Capabilities, roles and per-device access (DESIGN §3) arrive with the access issue and
change only this module's insides, not its callers.
"""

from django.db.models import QuerySet

from devices.models import Device


def devices_for(user) -> QuerySet[Device]:
    """Devices the user may see; anything outside it must answer 404, like a missing device."""
    if not (user.is_authenticated and user.is_active):
        return Device.objects.none()
    return Device.objects.all()
