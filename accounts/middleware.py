"""Idle and absolute session timeouts."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, resolve_url
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


class PasswordChangeRequiredMiddleware:
    """A user signed in with a one-time password (a reset by a manager) can do nothing but choose
    their own password, and sign out."""

    ALLOWED = ("password_change", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            from django.urls import resolve
            from django.urls.exceptions import Resolver404

            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in self.ALLOWED and not request.path_info.startswith(settings.STATIC_URL):
                messages.info(request, "Choose your own password to go on: the one you were given works only once.")
                target = resolve_url("password_change")
                return HttpResponseClientRedirect(target) if request.headers.get("HX-Request") else redirect(target)
        return self.get_response(request)
