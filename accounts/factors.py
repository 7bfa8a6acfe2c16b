"""Second factors: authenticator apps (TOTP), one-time recovery codes and passkeys (WebAuthn).

django-otp keeps the devices and their throttling (1, 2, 4, 8 … seconds between tries after a
wrong code, per device) and refuses a TOTP code used before (`last_t`); django-otp-webauthn keeps
the passkeys. This module is the one place the portal creates, checks and removes them, and the
one place that says whether a session's proof of a second factor is fresh enough for a step-up.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from audit.services import record

FRESH_KEY = "second_factor_at"
RECOVERY_CODES = 10
RECOVERY_NAME = "Recovery codes"
TOTP_CODE = re.compile(r"^\d{6}$")


class FactorError(Exception):
    """A code that was refused, with the sentence to show."""


@dataclass(frozen=True)
class Factor:
    kind: str  # "totp", "passkey" or "recovery"
    id: int
    name: str
    created_at: datetime | None
    last_used_at: datetime | None
    remaining: int | None = None  # recovery codes left


def has_second_factor(user) -> bool:
    return bool(user and user.is_authenticated and user_has_device(user, confirmed=True))


def standing(user) -> tuple[bool, str]:
    """(has a second factor, the owner's rule) in one query: the gate asks on every request."""
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef, Subquery

    from .models import TwoFactorRule

    row = get_user_model().objects.filter(pk=user.pk).annotate(
        factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        | Exists(WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True))
        | Exists(StaticDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        rule=Subquery(TwoFactorRule.objects.filter(pk=1).values("applies_to")[:1]),
    ).values_list("factor", "rule").first()
    return (bool(row[0]), row[1] or "nobody") if row else (False, "nobody")


def factors_of(user) -> list[Factor]:
    """What the user has enrolled, for their security page and their manager's view."""
    found: list[Factor] = []
    for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id"):
        found.append(Factor("totp", device.id, device.name, device.created_at, device.last_used_at))
    for device in WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("id"):
        found.append(Factor("passkey", device.id, device.name, device.created_at, device.last_used_at))
    for device in StaticDevice.objects.filter(user=user, confirmed=True).order_by("id"):
        found.append(Factor("recovery", device.id, device.name, device.created_at, device.last_used_at,
                            remaining=device.token_set.count()))
    return found


# --- Enrolment -------------------------------------------------------------------------------

def start_authenticator(user) -> TOTPDevice:
    """A new, unconfirmed authenticator: it counts for nothing until a code from it is entered.
    Earlier unconfirmed ones of this user are dropped (a reload makes a new QR code)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def pending_authenticator(user, device_id) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (the CSP allows data: images only)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app by hand."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def confirm_authenticator(request, device: TOTPDevice, code: str) -> list[str] | None:
    """The first code from the app proves it was set up. Returns the new recovery codes when this
    is the user's first factor (so nobody is left without a way back), else None."""
    code = _digits(code)
    if not TOTP_CODE.match(code) or not device.verify_token(code):
        device.throttle_reset()  # guessing proves nothing here: the person was just shown the key
        record("auth.second_factor.add", "failed", detail={"kind": "totp"},
               reason="The code did not match: the app's clock or the QR code scanned differ.")
        raise FactorError("That code did not match. Enter the 6 digits the app shows now (codes change every "
                          "30 seconds); if it keeps failing, check the phone's clock.")
    with transaction.atomic():
        first = not has_second_factor(request.user)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(request.user) if first else None
    _mark_verified(request, device)
    record("auth.second_factor.add", "succeeded", detail={"kind": "totp", "name": device.name})
    return codes


PENDING_CODES_KEY = "recovery_codes_to_show"


def passkey_added(request, device) -> None:
    """Called by the registration view once the browser's passkey is stored. A first factor
    comes with recovery codes, kept in the session until the security page shows them once."""
    if not StaticDevice.objects.filter(user=request.user).exists():
        request.session[PENDING_CODES_KEY] = _new_recovery_codes(request.user)
    record("auth.second_factor.add", "succeeded", detail={"kind": "passkey", "name": device.name})
    mark_fresh(request)


def codes_to_show(request) -> list[str]:
    return request.session.pop(PENDING_CODES_KEY, None) or []


def new_recovery_codes(request) -> list[str]:
    """Replace the user's recovery codes (the old ones stop working); shown once."""
    with transaction.atomic():
        codes = _new_recovery_codes(request.user)
    record("auth.second_factor.add", "succeeded", detail={"kind": "recovery", "count": len(codes)})
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


MODELS = {"totp": TOTPDevice, "passkey": WebAuthnCredential, "recovery": StaticDevice}


def owns(user, kind: str, device_id: int) -> bool:
    model = MODELS.get(kind)
    return bool(model and model.objects.filter(user=user, pk=device_id, confirmed=True).exists())


def remove(user, kind: str, device_id: int) -> bool:
    """Remove one of `user`'s own factors. Recovery codes go with the last other factor: alone
    they would be a second password."""
    model = MODELS.get(kind)
    if model is None:
        return False
    codes_too = False
    with transaction.atomic():
        deleted, _ = model.objects.filter(user=user, pk=device_id, confirmed=True).delete()
        if deleted and not TOTPDevice.objects.filter(user=user, confirmed=True).exists() \
                and not WebAuthnCredential.objects.filter(user=user, confirmed=True).exists():
            codes_too = bool(StaticDevice.objects.filter(user=user).delete()[0]) and kind != "recovery"
    if deleted:
        record("auth.second_factor.remove", "succeeded",
               detail={"kind": kind, "user": user.username, "recovery_codes_removed_too": codes_too})
    return bool(deleted)


def remove_all(user) -> int:
    """Every factor of `user` (a manager's reset for someone who lost their phone)."""
    with transaction.atomic():
        count = sum(model.objects.filter(user=user, confirmed=True).count() for model in MODELS.values())
        for model in MODELS.values():  # pending authenticators too; a set of recovery codes counts once
            model.objects.filter(user=user).delete()
    return count


# --- Verification ----------------------------------------------------------------------------

def verify_code(request, code: str, *, purpose: str) -> None:
    """Check a code from the authenticator app, or a recovery code, for the signed-in user.
    On success the session counts as verified (django-otp) and fresh (step-up). Raises
    FactorError with what to do next; every try is audited (never the code itself)."""
    _mark_verified(request, check_code(request.user, code, purpose=purpose))


def check_code(user, code: str, *, purpose: str):
    """The check itself, with no session (the API proves each step-up this way): the factor that
    matched, or FactorError. Each code works once; wrong ones make the next wait longer."""
    entered, kind = _digits(code), "totp"
    if not TOTP_CODE.match(entered):
        entered, kind = entered.lower()[:16], "recovery"
    devices = [d for d in devices_for_user(user, confirmed=True)
               if isinstance(d, TOTPDevice if kind == "totp" else StaticDevice)]
    if not devices:
        record("auth.second_factor", "failed", detail={"kind": kind, "purpose": purpose},
               reason="No factor of this kind.")
        raise FactorError("Enter the 6-digit code from your authenticator app, or one of your recovery codes."
                          if entered else "Enter a code.")
    waits = []
    for device in devices:
        with transaction.atomic():  # the check and the failure count as one step, however many tries at once
            device = type(device).objects.select_for_update().get(pk=device.pk)
            allowed, info = device.verify_is_allowed()
            matched = allowed and device.verify_token(entered)
        if not allowed:
            if info and info.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
                waits.append(info["locked_until"])
            continue
        if matched:
            left = device.token_set.count() if kind == "recovery" else None
            record("auth.second_factor", "succeeded",
                   detail={"kind": kind, "purpose": purpose, **({"recovery_codes_left": left} if left is not None
                                                                 else {})})
            return device
    if waits and len(waits) == len(devices):
        until = min(waits)
        record("auth.second_factor", "denied", detail={"kind": kind, "purpose": purpose},
               reason="Too many wrong codes: waiting.")
        raise FactorError(f"Too many wrong codes. Wait until {until:%H:%M:%S} UTC and try again; each wrong code "
                          "doubles the wait.")
    record("auth.second_factor", "failed", detail={"kind": kind, "purpose": purpose},
           reason="Wrong, expired or already used code.")
    raise FactorError("That code is wrong, expired or was already used. Enter the code the app shows now, "
                      "or an unused recovery code.")


def passkey_verified(request, device) -> None:
    """Called by the authentication view once the browser's passkey answered (django-otp-webauthn
    has marked the session verified)."""
    request.session.cycle_key()  # a new session key after every proof of identity
    mark_fresh(request)
    record("auth.second_factor", "succeeded", detail={"kind": "passkey", "purpose": "passkey"})


def _mark_verified(request, device) -> None:
    """The second step of signing in gets a new session key, as the first did; a step-up on a
    session already verified keeps it, so that an answer lost on the way (the person left the page
    meanwhile) does not sign them out."""
    completes_sign_in = not request.user.is_verified()
    otp_login(request, device)
    if completes_sign_in:
        request.session.cycle_key()
    mark_fresh(request)


def mark_fresh(request) -> None:
    request.session[FRESH_KEY] = time.time()


def is_fresh(request) -> bool:
    """Whether the session proved a second factor within the last STEP_UP_MINUTES."""
    return time.time() - request.session.get(FRESH_KEY, 0) < settings.STEP_UP_MINUTES * 60


def step_up_needed(request) -> bool:
    """Reveal and Manage Users changes ask for a fresh second factor from those who have one."""
    return has_second_factor(request.user) and not is_fresh(request)


def _digits(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")[:64]

