"""Reads for the Manage Users pages: what a manager sees of a user, and what they may change."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from devices.models import Device

from . import policy
from .capabilities import CAPABILITIES
from .models import ExternalIdentity, GroupMapping, Role, TwoFactorRule, User


def users_list() -> QuerySet[User]:
    return User.objects.annotate(device_count=Count("devices", distinct=True)).prefetch_related("roles").order_by(
        "-is_account_owner", "username")


@dataclass
class Row:
    key: str
    name: str
    description: str
    checked: bool
    via: list[str] = field(default_factory=list)
    locked_reason: str | None = None


def capability_rows(actor, target: User) -> dict[str, list[Row]]:
    """Capabilities grouped by department, as the console groups them, each with why it is locked."""
    direct = set(target.capabilities.values_list("key", flat=True))
    via: dict[str, list[str]] = {}
    for role in target.roles.prefetch_related("capabilities"):
        for cap in role.capabilities.all():
            via.setdefault(cap.key, []).append(role.name)
    groups: dict[str, list[Row]] = {}
    for cap in CAPABILITIES:
        groups.setdefault(cap.department, []).append(Row(
            cap.key, cap.name, cap.description, checked=target.is_account_owner or cap.key in direct,
            via=via.get(cap.key, []),
            locked_reason=policy.management_denial(actor, target, capability_keys={cap.key})))
    return groups


def role_rows(actor, target: User) -> list[Row]:
    held = set(target.roles.values_list("pk", flat=True))
    roles = Role.objects.prefetch_related(Prefetch("capabilities"))
    return [Row(str(role.pk), role.name, ", ".join(c.name for c in role.capabilities.all()) or "No permissions",
                checked=role.pk in held,
                locked_reason=policy.management_denial(
                    actor, target, role_caps={c.key for c in role.capabilities.all()}))
            for role in roles]


def whole_kinds(target: User) -> list[str]:
    """The kinds of device a user sees all of (the owner, All Guest / All Hardware Access), in words."""
    from .capabilities import ACCESS_ALL_GUEST, ACCESS_ALL_HARDWARE

    held = policy.capabilities_of(target)
    if target.is_account_owner:
        return ["all virtual servers", "all bare metal servers"]
    return [words for key, words in ((ACCESS_ALL_GUEST, "all virtual servers"),
                                     (ACCESS_ALL_HARDWARE, "all bare metal servers")) if key in held]


def device_access(target: User) -> QuerySet[Device]:
    return target.devices.order_by("fqdn")


def grantable_devices(actor, target: User, search: str = "") -> QuerySet[Device]:
    """Devices the manager can see and the user does not hold yet, for the picker."""
    devices = policy.devices_for(actor).filter(vanished_at__isnull=True).exclude(users=target)
    if search:
        devices = devices.filter(fqdn__icontains=search.strip())
    return devices.order_by("fqdn")


def two_factor_rule() -> TwoFactorRule:
    return TwoFactorRule.objects.prefetch_related("capabilities").get(pk=1)


def two_factor_rule_initial(rule: TwoFactorRule) -> dict:
    return {"applies_to": rule.applies_to, "capabilities": [c.key for c in rule.capabilities.all()]}


def group_mappings() -> QuerySet[GroupMapping]:
    return GroupMapping.objects.prefetch_related("roles").annotate(device_count=Count("devices"))


def external_identities() -> QuerySet[ExternalIdentity]:
    return ExternalIdentity.objects.select_related("user").order_by("-last_sign_in")[:200]
