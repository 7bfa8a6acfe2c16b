"""Single sign-on through an OpenID Connect provider (mozilla-django-oidc), when OIDC_ISSUER is set.

The provider's endpoints come from its discovery document, read on the first sign-in (never at
start-up, and never for a password sign-in). The provider says who someone is (issuer + subject)
and which groups they are in; what those groups may do here is kept in the portal
(GroupMapping) and applied by accounts.services at every sign-in.
"""

from __future__ import annotations

import threading

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path
from mozilla_django_oidc import views as oidc_views
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from audit.services import record

from .refusals import Refused

# mozilla-django-oidc setting -> discovery document key
ENDPOINTS = {"OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint", "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
             "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint", "OIDC_OP_JWKS_ENDPOINT": "jwks_uri"}
_discovered: dict[str, str] = {}
_lock = threading.Lock()
REFUSAL_KEY = "_sso_refusal"


class ProviderUnavailable(Exception):
    pass


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def discovery() -> dict[str, str]:
    """The provider's discovery document, fetched once per process (a failure is not kept)."""
    with _lock:
        if not _discovered:
            url = settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration"
            try:
                answer = requests.get(url, timeout=settings.OIDC_TIMEOUT_SECONDS)
                answer.raise_for_status()
                document = answer.json()
            except (requests.RequestException, ValueError) as error:
                raise ProviderUnavailable(f"The sign-in provider did not answer ({type(error).__name__}).") from error
            if document.get("issuer", "").rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
                raise ProviderUnavailable("The sign-in provider names another issuer than OIDC_ISSUER.")
            _discovered.update(document)
        return dict(_discovered)


def forget_discovery() -> None:
    """Read the discovery document again at the next sign-in (the provider moved, or tests)."""
    with _lock:
        _discovered.clear()


def setting(attr: str, *default):
    """mozilla-django-oidc's settings, with the endpoints from discovery unless set explicitly."""
    if attr in ENDPOINTS and not getattr(settings, attr, None):
        return discovery()[ENDPOINTS[attr]]
    return import_from_settings(attr, *default)


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Knows people by issuer + subject; creates them on first sign-in; gives them their groups'
    roles and devices; refuses the deactivated and those whose groups give nothing here."""

    get_settings = staticmethod(setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()  # the endpoints are read when a code is exchanged, not before

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs:
            return None  # a password sign-in: not ours
        try:
            super().__init__()
            return super().authenticate(request, **kwargs)
        except ProviderUnavailable as error:
            setattr(request, REFUSAL_KEY, str(error))
        except requests.RequestException as error:  # the code exchange or userinfo failed
            status = getattr(error.response, "status_code", None)
            setattr(request, REFUSAL_KEY, f"The provider did not accept the sign-in ({status or type(error).__name__})"
                                          ". If it keeps happening, tell your account owner (client id or secret).")
        return None

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub"))

    def get_or_create_user(self, access_token, id_token, payload):
        from . import services

        claims = {**self.get_userinfo(access_token, id_token, payload)}
        if claims.get("sub") != payload.get("sub"):  # the userinfo must be about the id_token's person
            setattr(self.request, REFUSAL_KEY, "The provider's answers did not match; nothing was done.")
            return None
        try:
            return services.sign_in_from_provider(settings.OIDC_ISSUER, claims,
                                                  groups_of(claims.get(settings.OIDC_GROUPS_CLAIM)))
        except Refused as refused:
            setattr(self.request, REFUSAL_KEY, refused.reason)
            return None


def groups_of(value) -> list[str]:
    """The groups claim as a list of names (providers send a list, or one string)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return sorted({str(v)[:150] for v in value if isinstance(v, (str, int))})[:500]


class StartSignIn(oidc_views.OIDCAuthenticationRequestView):
    get_settings = staticmethod(setting)

    def __init__(self, *args, **kwargs):
        self._unavailable = ""
        try:
            super().__init__(*args, **kwargs)
        except ProviderUnavailable as error:
            self._unavailable = str(error)

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        if self._unavailable:
            record("auth.sso", "failed", reason=self._unavailable)
            messages.error(request, f"{self._unavailable} Try again in a few minutes, or sign in with your password.")
            return redirect("login")
        return super().get(request)


class FinishSignIn(oidc_views.OIDCAuthenticationCallbackView):
    get_settings = staticmethod(setting)

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        return super().get(request)

    def login_failure(self):
        reason = getattr(self.request, REFUSAL_KEY, "") or (
            "The provider said no, or the sign-in took too long or was used twice." if self.request.GET
            else "Sign in again.")
        if not getattr(self.request, REFUSAL_KEY, ""):
            record("auth.sso", "failed", reason=reason)
        messages.error(self.request, f"Single sign-on did not sign you in: {reason}")
        return redirect("login")


urlpatterns = [
    path("start/", login_not_required(StartSignIn.as_view()), name="sso_start"),
    path("callback/", login_not_required(FinishSignIn.as_view()), name="oidc_authentication_callback"),
]
