"""Idle and absolute session timeouts."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, resolve_url
from django.urls import Resolver404, resolve
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

# Live-update polls send this header (see _progress.html): they are not the person's activity.
POLL_HEADER = "X-Portal-Poll"


class SessionTimeoutMiddleware:
    """Signs out after SESSION_IDLE_MINUTES without a request of the person's own, and
    SESSION_ABSOLUTE_HOURS after sign-in whatever happens, saying why on the login page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            expired = self._expired(request)
            if expired:
                logout(request)
                messages.info(request, expired)
                if request.headers.get("HX-Request"):
                    return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _expired(request) -> str:
        now, session = time.time(), request.session
        started = session.setdefault("login_at", now)
        seen = session.get("seen_at", started)
        if now - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
            return (f"You were signed out: a session lasts {settings.SESSION_ABSOLUTE_HOURS} hours at most. "
                    "Sign in again.")
        if now - seen > settings.SESSION_IDLE_MINUTES * 60:
            return (f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes without activity. "
                    "Sign in again.")
        if not request.headers.get(POLL_HEADER) and now - seen > 30:  # a write at most every 30 s
            session["seen_at"] = now
        return ""


# What a half-signed-in user may still open, per step they owe (`owed_step` below decides the step).
STEP_URLS = {
    "second_factor": {"second_factor", "logout", "login", "otp_webauthn:credential-authentication-begin",
                      "otp_webauthn:credential-authentication-complete", "otp_webauthn:js-i18n-catalog"},
    "password_change": {"password_change", "logout", "login"},
    "security": {"security", "authenticator_add", "recovery_codes", "password_change", "logout", "login",
                 "otp_webauthn:credential-registration-begin", "otp_webauthn:credential-registration-complete",
                 "otp_webauthn:js-i18n-catalog"},
}
STEP_MESSAGES = {
    "second_factor": "",
    "password_change": "Choose your own password to go on: the one you were given works only once.",
    "security": "Your account owner requires a second factor for your account. Add an authenticator app or a "
                "passkey to go on.",
}


def owed_step(*, has_factor: bool, verified: bool, must_change_password: bool, factor_required: bool) -> str | None:
    """The step a signed-in user must take before anything else, or None. Pure, so it is unit-tested
    with plain values: first prove the second factor one has, then replace a one-time password,
    then enrol a second factor if the owner requires one."""
    if has_factor and not verified:
        return "second_factor"
    if must_change_password:
        return "password_change"
    if factor_required and not has_factor:
        return "security"
    return None


class AccountGateMiddleware:
    """Holds a signed-in user at the step they owe (second factor, own password, enrolment): every
    other page leads back there, with `next` kept for a page they asked for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path_info.startswith(settings.STATIC_URL):
            return self.get_response(request)
        from . import factors, policy

        verified = user.is_verified()
        has_factor, rule = (True, "") if verified else factors.standing(user)
        step = owed_step(has_factor=has_factor, verified=verified, must_change_password=user.must_change_password,
                         factor_required=not has_factor and policy.second_factor_required(user, rule))
        if step is None:
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
            name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
        except Resolver404:
            name = None
        if name in STEP_URLS[step]:
            return self.get_response(request)
        if STEP_MESSAGES[step]:
            messages.info(request, STEP_MESSAGES[step])
        target = resolve_url(step)
        if request.method == "GET" and not request.headers.get("HX-Request") and step == "second_factor":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseClientRedirect(target) if request.headers.get("HX-Request") else redirect(target)
