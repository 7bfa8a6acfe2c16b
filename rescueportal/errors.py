"""Error pages that need nothing that might be what failed: no database, no session, no user."""

import logging
import sys

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import defaults

from api.problems import problem_response

log = logging.getLogger(__name__)

DATABASE_DOWN = ("The database is unavailable for a moment",
                 ["The portal could not reach its database, so nothing you asked for was done, and nothing "
                  "was half-done.", "Try again in a minute. Operations already running go on by themselves."])
SERVER_ERROR = ("Something went wrong",
                ["The portal hit an error it did not expect. Nothing was changed by this request.",
                 "Try again; if it happens again, tell your administrator the time it happened."])


def _page(title: str, lines: list[str], status: int) -> HttpResponse:
    response = HttpResponse(render_to_string("errors/plain.html", {"title": title, "lines": lines}), status=status)
    if status == 503:
        response["Retry-After"] = "30"
    return response


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def server_error(request) -> HttpResponse:
    """handler500: a database that cannot be reached is a 503 with what to do, not a bare 500.
    Under /api/ the same words as a problem (RFC 9457)."""
    exc = sys.exc_info()[1]
    title, lines, status = *SERVER_ERROR, 500
    if isinstance(exc, DatabaseError):
        log.warning("Database unavailable: %s", exc)
        title, lines, status = *DATABASE_DOWN, 503
    if is_api(request):
        return problem_response(status, " ".join(lines), instance=request.path)
    return _page(title, lines, status=status)


def bad_request(request, exception=None) -> HttpResponse:
    """handler400 (a body too large, a Host not allowed): under /api/ a problem too."""
    if is_api(request):
        too_large = type(exception).__name__ == "RequestDataTooBig"
        return problem_response(413 if too_large else 400, "The request body is too large." if too_large
                                else "The request could not be read (check its Host header and body).",
                                instance=request.path)
    return defaults.bad_request(request, exception)


BUTTON_ONLY = ("This address does something only when its button is pressed",
               ["It cannot be opened on its own, so nothing was done.",
                "Go back to the page you came from and use its button, or start again from the Device List."])


def method_not_allowed(request) -> HttpResponse:
    return _page(*BUTTON_ONLY, status=405)


def locked_out(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): under /api/ a problem with when to try
    again, elsewhere the pages' own (accounts.views.locked_out)."""
    from accounts import views as account_views

    if not is_api(request):
        return account_views.locked_out(request, original_response, credentials)
    response = problem_response(429, account_views.lockout_message(), instance=request.path)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def not_found(request, exception=None) -> HttpResponse:
    """handler404: Django's page, or under /api/ a problem that says where the paths are listed."""
    if is_api(request):
        return problem_response(404, "There is no such API path. The paths are listed at /api/schema/ and "
                                     "/api/docs/.", instance=request.path)
    return defaults.page_not_found(request, exception)


ANONYMOUS_CSRF_ROWS_PER_MINUTE = 10


def worth_recording(refusals_this_minute: int) -> bool:
    """Anonymous refusals from one address: the first ten of a minute one by one, then one row at the
    100th, 1,000th, 10,000th… saying how many there were: evidence without a flood of rows."""
    n = refusals_this_minute
    return n <= ANONYMOUS_CSRF_ROWS_PER_MINUTE or (n >= 100 and str(n).rstrip("0") == "1")


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: refused, said plainly, and kept in the audit trail (a state change was
    attempted). Signed-in people's refusals are each recorded; anonymous ones are bounded per address."""
    from accounts.lockout import count_in_window
    from audit.services import client_ip, record

    detail = {"path": request.path[:200], "method": request.method}
    count = None
    if not request.user.is_authenticated:
        count = count_in_window("csrf-refused", client_ip(request) or "unknown", 60, add=True)
    if count is None or worth_recording(count):
        if count is not None and count > ANONYMOUS_CSRF_ROWS_PER_MINUTE:
            detail["refused_this_minute_from_this_address"] = count
        record("security.csrf_rejected", "denied", request=request, reason=reason[:200], detail=detail)
    return _page("This form has expired", [
        "Nothing was changed: the form was not sent from this portal's page, or the page was too old.",
        "Go back, reload the page, and try again."], status=403)


def permission_denied(request, exception=None) -> HttpResponse:
    """handler403: why this request was refused, who can change that, and the way back that fits
    (the device or operation it was about, Manage Users for a manager, else the Device List)."""
    if is_api(request):
        return problem_response(403, str(exception) or "You do not have permission to do this.", instance=request.path)
    reason = str(exception or "") or "You do not have permission to do this."
    back_url, back_label = way_back(request)
    owner = None
    if "permission" in reason.lower() and request.user.is_authenticated and not request.user.is_account_owner:
        from accounts.models import User

        owner = User.objects.filter(is_account_owner=True).values_list("username", flat=True).first()
    return render(request, "403.html", {"reason": reason, "back_url": back_url, "back_label": back_label,
                                        "owner": owner}, status=403)


def way_back(request) -> tuple[str, str]:
    """Where a refused person goes next: what the request was about, if they may see it."""
    from django.http import Http404
    from django.urls import Resolver404, resolve, reverse

    from accounts import policy
    from accounts.capabilities import USER_MANAGE
    from devices.selectors import device_detail
    from workflows.selectors import operation_for

    fallback = (reverse("devices:list"), "Back to the Device List")
    if not request.user.is_authenticated:
        return fallback
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return fallback
    pk = match.kwargs.get("pk")
    try:  # the same selectors as the pages: what the user may not see is not offered
        if match.namespace == "workflows" and pk is not None and request.path_info.startswith("/devices/"):
            device = device_detail(request.user, pk)
            return reverse("devices:detail", args=[device.pk]), f"Back to {device.fqdn}"
        if match.namespace == "workflows" and pk is not None and request.path_info.startswith("/operations/"):
            op = operation_for(request.user, pk)
            return (reverse("workflows:operation", args=[op.pk]),
                    f"Back to the {op.get_kind_display()} of {op.device.fqdn}")
    except Http404:
        return fallback
    if match.namespace == "accounts" and match.url_name != "list" and policy.can(request.user, USER_MANAGE):
        return reverse("accounts:list"), "Back to Manage Users"
    return fallback
