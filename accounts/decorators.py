"""What a view needs, declared on it (pretix's `event_permission_required` is the model)."""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied

from audit.services import record

from . import policy


def requires(capability: str, *, event: str, reason: str) -> Callable:
    """The view needs `capability` (on no particular device). Anyone else gets 403 with `reason`,
    and the refusal is kept in the audit trail as a `denied` `event`."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            demand(request, capability, event=event, reason=reason)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def demand(request, capability: str, *, event: str, reason: str) -> None:
    """The same check inside a view, where part of it must run first (a form's own refusal)."""
    if not policy.can(request.user, capability):
        record(event, "denied", reason=reason, detail={"path": request.path[:200]})
        raise PermissionDenied(reason)
