from . import policy
from .capabilities import USER_EVENT_LOG_VIEW, USER_MANAGE


def access(request) -> dict:
    """What the navigation may offer this user (the views check again on every request)."""
    user = getattr(request, "user", None)
    half = bool(user is not None and user.is_authenticated and hasattr(user, "is_verified")
                and not user.is_verified() and request.resolver_match is not None
                and request.resolver_match.url_name == "second_factor")
    return {"can_manage_users": not half and policy.can(user, USER_MANAGE),
            "can_view_audit": not half and policy.can(user, USER_EVENT_LOG_VIEW), "half_signed_in": half}
