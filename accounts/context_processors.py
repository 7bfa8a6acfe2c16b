from . import policy
from .capabilities import USER_EVENT_LOG_VIEW, USER_MANAGE


def access(request) -> dict:
    """What the navigation may offer this user (the views check again on every request)."""
    user = getattr(request, "user", None)
    return {"can_manage_users": policy.can(user, USER_MANAGE), "can_view_audit": policy.can(user, USER_EVENT_LOG_VIEW)}
