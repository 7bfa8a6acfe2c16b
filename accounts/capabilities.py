"""The capabilities the portal knows, named after classic infrastructure's permission keyNames.

Fixed in code (they are checked by name everywhere); the Capability table mirrors this list so
roles and grants can point at rows with integrity.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CapabilityInfo:
    key: str
    name: str
    description: str
    department: str


SERVER_RELOAD = "SERVER_RELOAD"
REMOTE_MANAGEMENT = "REMOTE_MANAGEMENT"
VIEW_CUSTOMER_SOFTWARE_PASSWORD = "VIEW_CUSTOMER_SOFTWARE_PASSWORD"
USER_MANAGE = "USER_MANAGE"
USER_EVENT_LOG_VIEW = "USER_EVENT_LOG_VIEW"
ACCESS_ALL_GUEST = "ACCESS_ALL_GUEST"
ACCESS_ALL_HARDWARE = "ACCESS_ALL_HARDWARE"

CAPABILITIES: tuple[CapabilityInfo, ...] = (
    CapabilityInfo(SERVER_RELOAD, "OS Reloads and Rescue Kernel",
                   "Rescue mode, boot from image and unloading the image, on devices you can access.", "Devices"),
    CapabilityInfo(REMOTE_MANAGEMENT, "IPMI Remote Management",
                   "Restart devices you can access.", "Devices"),
    CapabilityInfo(ACCESS_ALL_GUEST, "All Guest Access",
                   "Access to every virtual server of the account, present and future.", "Devices"),
    CapabilityInfo(ACCESS_ALL_HARDWARE, "All Hardware Access",
                   "Access to every bare metal server of the account, present and future.", "Devices"),
    CapabilityInfo(VIEW_CUSTOMER_SOFTWARE_PASSWORD, "View Customer Software Password",
                   "Reveal the root / Administrator password of devices you can access.", "Software"),
    CapabilityInfo(USER_MANAGE, "Manage Users",
                   "Add users and change their permissions and device access.", "Administrative"),
    CapabilityInfo(USER_EVENT_LOG_VIEW, "View Event Log",
                   "Review the account-wide audit trail.", "Administrative"),
)
BY_KEY = {c.key: c for c in CAPABILITIES}
ALL_KEYS = frozenset(BY_KEY)

# Built-in roles: (name, description, capability keys). Editable afterwards by the account's managers.
DEFAULT_ROLES = (
    ("Viewer", "Sees the devices they have access to.", ()),
    ("Operator", "Puts their devices into rescue mode and back, and reveals their passwords.",
     (SERVER_RELOAD, REMOTE_MANAGEMENT, VIEW_CUSTOMER_SOFTWARE_PASSWORD)),
    ("Auditor", "Reviews the account-wide audit trail.", (USER_EVENT_LOG_VIEW,)),
    ("User manager", "Manages users, their permissions and device access.", (USER_MANAGE,)),
)


def ensure_catalogue(capability_model, role_model) -> None:
    """Upsert the capability rows and create the default roles that are missing (never edits a role).

    Takes the model classes so the data migration can pass its historical models.
    """
    for cap in CAPABILITIES:
        capability_model.objects.update_or_create(key=cap.key, defaults={
            "name": cap.name, "description": cap.description, "department": cap.department})
    for name, description, keys in DEFAULT_ROLES:
        role, created = role_model.objects.get_or_create(name=name, defaults={"description": description})
        if created:
            role.capabilities.set(keys)
