"""Passkeys (django-otp-webauthn), fitted to the portal: the site's own origin is accepted on the
relying party's host name (so `make run` on any port works), and the ceremonies that succeed are
audited and count as a fresh second factor (accounts.factors)."""

import json
from urllib.parse import urlsplit

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.settings import app_settings

from . import factors


class PortalWebAuthnHelper(WebAuthnHelper):
    def create_credential(self, user, response, parsed_credential, original_data):
        """A name a person can tell apart in their list: the kind of key and when it was added."""
        from django.utils import timezone

        device = super().create_credential(user, response, parsed_credential, original_data)
        kind = "Security key" if "usb" in (device.transports or []) or "nfc" in (device.transports or []) \
            else "Passkey"
        device.name = f"{kind} added {timezone.now():%Y-%m-%d %H:%M} UTC"
        return device

    def get_allowed_origins(self) -> list[str]:
        """PASSKEY_ORIGINS, plus this site's own origin when its host is the relying party's: the
        host was already checked against ALLOWED_HOSTS, and the browser binds the passkey to it."""
        origins = list(super().get_allowed_origins())
        own = f"{self.request.scheme}://{self.request.get_host()}"
        if urlsplit(own).hostname == app_settings.OTP_WEBAUTHN_RP_ID and own not in origins:
            origins.append(own)
        return origins


class FreshFactorNeeded(exceptions.OTPWebAuthnApiError):
    status_code = 403
    code = "step_up_needed"
    default_detail = "Confirm it is you with a second factor first (Security → Confirm), then add the passkey."


class _FreshToRegister:
    def check_can_register(self):
        """Adding a factor is a change to how one signs in: a fresh proof, like Manage Users changes."""
        if factors.step_up_needed(self.request):
            raise FreshFactorNeeded()


class BeginRegistration(_FreshToRegister, webauthn_views.BeginCredentialRegistrationView):
    pass


class CompleteRegistration(_FreshToRegister, webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            device = WebAuthnCredential.objects.filter(user=self.request.user,
                                                       pk=json.loads(response.content)["id"]).first()
            if device is not None:
                factors.passkey_added(self.request, device)
        return response


class CompleteAuthentication(webauthn_views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        super().complete_auth(device)
        factors.passkey_verified(self.request, device)


app_name = "otp_webauthn"  # the library's templates reverse these names
urlpatterns = [
    path("registration/begin/", BeginRegistration.as_view(),
         name="credential-registration-begin"),
    path("registration/complete/", CompleteRegistration.as_view(), name="credential-registration-complete"),
    path("authentication/begin/", webauthn_views.BeginCredentialAuthenticationView.as_view(),
         name="credential-authentication-begin"),
    path("authentication/complete/", CompleteAuthentication.as_view(), name="credential-authentication-complete"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
