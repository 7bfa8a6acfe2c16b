"""The one access policy: every view, job and command asks it what a user may see or do.

Reads only. `devices_for(user)` is the set of devices a user may see (anything outside answers
404, like a device that does not exist); `can(user, capability, device)` is every yes/no; and
`management_denial(...)` says why a user-management change is refused, or None. What a user
holds is read once per request (cached on the user object the request carries), so a revoked
capability stops the very next request.
"""

from django.db.models import Q, QuerySet

from devices.models import Device

from . import capabilities as caps

_CACHE = "_rescueportal_capabilities"


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def capabilities_of(user) -> frozenset[str]:
    """Capability keys the user holds: the owner holds all; others their roles' and direct ones."""
    if not _active(user):
        return frozenset()
    if user.is_account_owner:
        return caps.ALL_KEYS
    cached = getattr(user, _CACHE, None)
    if cached is None:
        cached = granted_keys(user)
        setattr(user, _CACHE, cached)
    return cached


def granted_keys(user) -> frozenset[str]:
    """What the user's grants add up to, active or not (a reactivation gives it back)."""
    from .models import Capability

    if user.is_account_owner:
        return caps.ALL_KEYS
    return frozenset(Capability.objects.filter(Q(users=user) | Q(roles__users=user)).values_list("key", flat=True))


def forget(user) -> None:
    """Drop the per-request cache after a change to this user's grants."""
    for cache in (_CACHE, _SEEN):
        if hasattr(user, cache):
            delattr(user, cache)


def devices_for(user) -> QuerySet[Device]:
    """Devices the user may see: per-device access, or the full-access flag of the device's kind."""
    if not _active(user):
        return Device.objects.none()
    if user.is_account_owner:
        return Device.objects.all()
    held = capabilities_of(user)
    scope = Q(users=user)
    if caps.ACCESS_ALL_GUEST in held:
        scope |= Q(kind=Device.Kind.VIRTUAL)
    if caps.ACCESS_ALL_HARDWARE in held:
        scope |= Q(kind=Device.Kind.BARE_METAL)
    return Device.objects.filter(pk__in=Device.objects.filter(scope).values("pk"))


_SEEN = "_rescueportal_visible_devices"


def can_see(user, device: Device) -> bool:
    """Asked once per device per request (a device page asks for each action it offers)."""
    seen = getattr(user, _SEEN, None)
    if seen is None:
        seen = {}
        if user is not None:
            setattr(user, _SEEN, seen)
    if device.pk not in seen:
        seen[device.pk] = devices_for(user).filter(pk=device.pk).exists()
    return seen[device.pk]


def can(user, capability: str, device: Device | None = None) -> bool:
    """May the user use this capability (on this device, when one is given)?"""
    if capability not in caps.ALL_KEYS:
        raise ValueError(f"Unknown capability {capability!r}")
    if capability not in capabilities_of(user):
        return False
    return device is None or can_see(user, device)


def management_denial(actor, target=None, *, capability_keys=(), devices=(), role_caps=(),
                      status_change: bool = False) -> str | None:
    """Why `actor` may not make this change to `target`'s account, or None when they may.

    Rules (DESIGN §3): only the owner or a Manage Users holder changes users; nobody changes the
    owner's grants or deactivates the owner; a manager changes neither their own grants nor
    grants they do not hold themselves (capabilities, a role's capabilities, device access), and
    deactivates or reactivates only users whose permissions they hold (`status_change`).
    """
    held = capabilities_of(actor)
    denial = grant_denial(held, target_is_owner=bool(target is not None and target.is_account_owner),
                          target_is_actor=bool(target is not None and target.pk == actor.pk),
                          capability_keys=capability_keys, role_caps=role_caps,
                          target_holds=granted_keys(target) if status_change and target is not None else frozenset())
    if denial:
        return denial
    if status_change and target is not None and not actor.is_account_owner:
        beyond = target.devices.exclude(pk__in=devices_for(actor).values("pk")).count()
        if beyond:
            return (f"You can only deactivate or reactivate users whose devices you can access yourself; this user "
                    f"has access to {beyond} device{'s' if beyond != 1 else ''} outside yours. Ask the account owner.")
    if devices and not actor.is_account_owner:
        visible = set(devices_for(actor).filter(pk__in=[d.pk for d in devices]).values_list("pk", flat=True))
        outside = [d for d in devices if d.pk not in visible]
        if outside:
            return (f"You can only grant or revoke access to devices you can access yourself "
                    f"({len(outside)} of the selected devices are outside your access).")
    return None


def grant_denial(actor_holds: frozenset[str], *, target_is_owner: bool = False, target_is_actor: bool = False,
                 capability_keys=(), role_caps=(), target_holds: frozenset[str] = frozenset()) -> str | None:
    """The rules of `management_denial` that need no database: what the actor holds, who the target is."""
    if caps.USER_MANAGE not in actor_holds:
        return "Only the account owner or a user with the Manage Users permission can change users."
    if target_is_owner:
        return "The account owner holds every permission and device; nobody can change that."
    if target_is_actor:
        return "You cannot change your own permissions, device access or status."
    missing = sorted(set(capability_keys) - actor_holds) or sorted(set(role_caps) - actor_holds)
    if missing:
        names = ", ".join(caps.BY_KEY[k].name for k in missing)
        return f"You can only grant or revoke permissions you hold yourself; you do not hold: {names}."
    if beyond := sorted(target_holds - actor_holds):
        names = ", ".join(caps.BY_KEY[k].name for k in beyond)
        return (f"You can only deactivate or reactivate users whose permissions you hold yourself; this user "
                f"also holds: {names}. Ask the account owner.")
    return None


def second_factor_required(user, applies_to: str | None = None) -> bool:
    """Whether the owner's rule makes this user have a second factor before doing anything else
    (`applies_to`: the rule's kind, when the caller has read it already)."""
    from .models import TwoFactorRule

    if not _active(user):
        return False
    if applies_to is None:
        applies_to = TwoFactorRule.objects.filter(pk=1).values_list("applies_to", flat=True).first() or "nobody"
    if applies_to == TwoFactorRule.AppliesTo.NOBODY:
        return False
    if applies_to == TwoFactorRule.AppliesTo.EVERYONE:
        return True
    chosen = TwoFactorRule.capabilities.through.objects.filter(twofactorrule_id=1).values_list("capability_id",
                                                                                                flat=True)
    return bool(capabilities_of(user) & set(chosen))


def may_configure_webhooks(user) -> bool:
    """Webhooks send every event of the account to an address outside it: the owner's decision."""
    return bool(user.is_authenticated and user.is_account_owner)
