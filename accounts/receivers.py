"""Authentication events into the audit trail."""

import time

from audit.services import client_ip, record

from . import lockout


def logged_in(sender, request, user, **kwargs) -> None:
    from . import factors

    pending = factors.has_second_factor(user)  # the password step: the second factor's row follows
    record("auth.login", "succeeded", request=request, actor=user, target=user,
           detail={"second_factor": "pending"} if pending else None)
    if request is not None and hasattr(request, "session"):
        request.session["login_at"] = request.session["seen_at"] = time.time()  # the session timeouts count from here


def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record("auth.logout", "succeeded", request=request, actor=user, target=user)


def login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the username is kept: never the password that was tried.
    record("auth.login_failed", "failed", request=request,
           detail={"username": str(credentials.get("username", ""))[:150]})
    if request is not None:
        lockout.note_failure(client_ip(request))


def lockout_username(request, credentials: dict | None) -> str | None:
    """django-axes counts wrong passwords per username ignoring case, as sign-in does."""
    username = (credentials or {}).get("username") or (request.POST.get("username") if request else None)
    return username.strip().casefold() if username else username
