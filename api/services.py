"""Writes of the API: personal access tokens and remembered POSTs. Audited through the one record()."""

import contextlib
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import factors, policy
from accounts.middleware import owed_step
from accounts.refusals import Refused, Why
from audit.services import client_ip, record

from .models import AccessToken, IdempotentRequest, Scope

TOKEN_FORMAT = re.compile(r"^rp_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{20,100})$")
KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


class TokenRefused(Exception):
    """The token cannot be used: what to do next is in the message (answered as 401)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    prefix = "".join(secrets.choice(alphabet) for _ in range(8))
    return prefix, f"rp_{prefix}_{secrets.token_urlsafe(32)}"


def create_token(user, *, name: str, days: int, scopes: list[str]) -> tuple[AccessToken, str]:
    """Make a token and return it with its secret, which is never kept and never shown again."""
    name = name.strip()[:100]
    if not name:
        raise Refused("Give the token a name that says where it is used (a runbook, a bot).", Why.INVALID)
    if days not in settings.API_TOKEN_EXPIRY_CHOICES_DAYS:
        raise Refused("Choose one of the offered expiry times.", Why.INVALID)
    active = AccessToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()).count()
    if active >= settings.API_TOKENS_PER_USER:
        raise Refused(f"You have {active} active tokens, the most allowed. Revoke one you no longer use first.",
                      Why.CONFLICT)
    wanted = {Scope.READ, *scopes}
    if not wanted <= set(Scope.values):
        raise Refused("Choose scopes from the list.", Why.INVALID)
    scope_list = [s for s in Scope.values if s in wanted]
    for _ in range(5):  # a clash of 8-character prefixes is rare; try another
        prefix, secret = _new_token()
        try:
            with transaction.atomic():
                token = AccessToken.objects.create(user=user, name=name, prefix=prefix, digest=_digest(secret),
                                                   scopes=scope_list,
                                                   expires_at=timezone.now() + timedelta(days=days))
                record("api.token.create", "succeeded", target=user,
                       detail={"token": prefix, "name": name, "scopes": scope_list, "days": days})
            return token, secret
        except IntegrityError:
            continue
    raise Refused("A token could not be made just now; try again.", Why.UNAVAILABLE)


def revoke_token(user, token_id: int) -> AccessToken | None:
    """Revoke one of the user's own tokens (None: no such token of theirs). Takes effect at once."""
    token = AccessToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        return None
    if AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        record("api.token.revoke", "succeeded", target=user, detail={"token": token.prefix, "name": token.name})
    token.refresh_from_db()
    return token


def revoke_all(user) -> int:
    """Every token of a user who was deactivated, or whose password or second factors were reset:
    revoked for good (a token made by whoever had the account must not come back with it)."""
    tokens = list(AccessToken.objects.filter(user=user, revoked_at__isnull=True).values_list("prefix", flat=True))
    if tokens:
        AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        record("api.token.revoke", "succeeded", target=user, reason="Revoked with the user's sessions.",
               detail={"tokens": tokens})
    return len(tokens)


def authenticate(raw: str, request) -> AccessToken:
    """The token for this Authorization value, checked: known, whole, not revoked, not expired,
    its user active. Its first use from an address is audited, as a sign-in is."""
    match = TOKEN_FORMAT.match(raw or "")
    token = AccessToken.objects.select_related("user").filter(prefix=match.group(1)).first() if match else None
    if token is None or not hmac.compare_digest(token.digest, _digest(raw)):
        raise TokenRefused("This token is not valid. Check that it was copied whole, or create a new one on the "
                           "API tokens page.")
    problem = ""
    if token.revoked_at is not None:
        problem = f"This token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC. Create a new one on the API " \
                  "tokens page."
    elif token.is_expired:
        problem = f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. Create a new one on the API " \
                  "tokens page."
    elif not token.user.is_active:
        problem = "The account this token belongs to is deactivated."
    else:
        problem = _owed_in_the_browser(token.user)
    if problem:
        record("api.token.refused", "denied", actor=token.user, target=token.user, reason=problem,
               detail={"token": token.prefix})
        raise TokenRefused(problem)
    _note_use(token, request)
    return token


OWED = {"password_change": "Your password must be changed: sign in to the portal and choose a new one first.",
        "security": "The account owner requires a second factor of you: add one on the Security page of the "
                    "portal; this token works again after that."}


def _owed_in_the_browser(user) -> str:
    """The sign-in gate's rule (accounts.middleware.owed_step) holds tokens too: a person who owes
    a new password or a second factor is not let in by a token made before."""
    has_factor, rule = factors.standing(user)
    step = owed_step(has_factor=has_factor, verified=True, must_change_password=user.must_change_password,
                     factor_required=not has_factor and policy.second_factor_required(user, rule))
    return OWED.get(step, "")


def _note_use(token: AccessToken, request) -> None:
    """Last use and address, written at most once a minute per token (or when the address changes)."""
    now, ip = timezone.now(), client_ip(request)
    if token.last_used_ip == ip and token.last_used_at and now - token.last_used_at < timedelta(minutes=1):
        return
    new_address = token.last_used_ip != ip
    changed = AccessToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(minutes=1)) | ~Q(last_used_ip=ip)
        | Q(last_used_ip__isnull=True)).update(last_used_at=now, last_used_ip=ip)
    if changed and new_address:
        record("api.token.used", "succeeded", actor=token.user, target=token.user,
               detail={"token": token.prefix, "name": token.name})
    token.last_used_at, token.last_used_ip = now, ip


# --- Idempotency-Key -----------------------------------------------------------------------------


@dataclass
class Remembered:
    """What an Idempotency-Key has already been answered with (status None: still being answered)."""
    status: int | None
    body: object = None
    location: str = ""


class KeyRefused(Exception):
    def __init__(self, status: int, slug: str, detail: str):
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The same request however its JSON is spaced or ordered."""
    with contextlib.suppress(ValueError, RecursionError):
        body = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def begin(user, key: str, print_: str) -> IdempotentRequest | Remembered:
    """Claim the key for this request, or say how it was answered. A claim left by a process that
    died is taken over after IDEMPOTENCY_STALE_SECONDS."""
    if not KEY_FORMAT.match(key):
        raise KeyRefused(400, "invalid",
                         "An Idempotency-Key is 1 to 255 printable characters without spaces, such as a UUID.")
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(user=user, key=key, fingerprint=print_, started_at=now)
    except IntegrityError:
        pass
    seen = IdempotentRequest.objects.get(user=user, key=key)
    if seen.fingerprint != print_:
        raise KeyRefused(422, "idempotency-key-reused",
                         "This Idempotency-Key was already used with a different request. Use a new key for a "
                         "new request.")
    if seen.status_code is not None:
        return Remembered(seen.status_code, seen.body, seen.location)
    stale = now - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
    if IdempotentRequest.objects.filter(pk=seen.pk, status_code__isnull=True, started_at__lt=stale).update(
            started_at=now):
        seen.started_at = now
        return seen
    raise KeyRefused(409, "request-in-progress",
                     "A request with this Idempotency-Key is still being answered. Try again in a moment.")


KEPT_STATUSES = range(200, 300), (400, 422)


def finish(claim: IdempotentRequest, status: int, body, location: str = "") -> None:
    """Keep a success, or a refusal of the request itself (invalid fields): the same request gets the
    same answer. A refusal that depends on the moment (a conflict, a permission, an outage) is not
    kept: a retry with the same key tries again."""
    if not (status in KEPT_STATUSES[0] or status in KEPT_STATUSES[1]):
        IdempotentRequest.objects.filter(pk=claim.pk, status_code__isnull=True).delete()
        return
    IdempotentRequest.objects.filter(pk=claim.pk).update(status_code=status, body=body, location=location[:500],
                                                         finished_at=timezone.now())


def forget_old_keys() -> int:
    """Keys are remembered for IDEMPOTENCY_KEEP_HOURS (a day by default)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    return IdempotentRequest.objects.filter(started_at__lt=cutoff).delete()[0]
