"""Writes to users, their capabilities, roles and device access. Every change goes through the
policy's `management_denial`, and every change or refusal is recorded in the audit trail."""

import secrets
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record
from devices.models import Device

from . import policy
from .models import Capability, ExternalIdentity, GroupMapping, Role, TwoFactorRule, User
from .names import look_alike
from .refusals import Refused


class UsernameTaken(Exception):
    pass


class ChangeRefused(Refused):
    """The policy refused a change to a user; `reason` says why, for the person who tried."""


def _refuse(actor, event: str, reason: str, target=None, detail: dict | None = None):
    record(event, "denied", actor=actor, target=target, reason=reason, detail=detail)
    raise ChangeRefused(reason)


def _check(actor, event: str, target=None, detail: dict | None = None, **change) -> None:
    reason = policy.management_denial(actor, target, **change)
    if reason:
        _refuse(actor, event, reason, target, detail)


def check_may_change(actor, target: User | None, event: str) -> None:
    """The general rules (a manager, not the owner, not oneself), checked before reading a form."""
    _check(actor, event, target)


def reauthenticate(request, password: str) -> bool:
    """The signed-in person proves it is them again. Through `authenticate`, so that wrong
    passwords count towards django-axes' lockout exactly as they do at the login page.

    The session keeps its key (login changes it, against fixation): a step-up whose answer the
    browser never got, because the person left the page meanwhile, must not sign them out."""
    return password_is_theirs(request, request.user, password)


def password_is_theirs(request, user, password: str) -> bool:
    """The check alone, with no session (the API's step-up); wrong tries count in django-axes."""
    found = authenticate(request, username=user.get_username(), password=password)
    return found is not None and found.pk == user.pk


def create_user(actor, *, username: str, password: str, email: str = "", first_name: str = "",
                last_name: str = "", role: Role | None = None) -> User:
    role_caps = list(role.capabilities.values_list("key", flat=True)) if role else []
    detail = {"username": username, "role": role.name if role else None}
    _check(actor, "user.create", detail=detail, role_caps=role_caps)
    if twin := look_alike(username, list(User.objects.values_list("username", flat=True))):
        raise UsernameTaken(f"This username would be mistaken for the existing user {twin} (0 and o, 1 and l, "
                            "rn and m, dots and dashes read alike). Choose another.")
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    validate_password(password, user)
    try:
        with transaction.atomic():
            user.set_password(password)
            user.save()
            if role:
                user.roles.add(role)
            record("user.create", "succeeded", actor=actor, target=user, detail=detail)
    except IntegrityError:  # the same name (in any case) created a moment ago, e.g. by a second request
        raise UsernameTaken("A user with this username already exists.") from None
    return user


def set_capabilities(actor, target: User, keys: Iterable[str]) -> tuple[set, set]:
    """Make the user's direct capabilities `keys`, among those the actor may change; returns (granted, revoked).

    The target's row is locked and its grants read inside the transaction, so two managers at once
    each see the other's change; grants the actor does not hold are kept as they are (a manager's
    form governs only what the manager holds), and only what really changed is recorded."""
    wanted = set(keys)
    unknown = wanted - set(Capability.objects.values_list("key", flat=True))
    if unknown:
        _refuse(actor, "user.permission.grant", f"Unknown permissions: {', '.join(sorted(unknown))}.",
                target)
    check_may_change(actor, target, "user.permission.grant")
    denial, detail = None, {}
    with _holding(target):
        before = set(target.capabilities.values_list("key", flat=True))
        held = policy.capabilities_of(actor)
        wanted |= before - held  # not the actor's to change: kept
        granted, revoked = wanted - before, before - wanted
        detail = {"before": sorted(before), "after": sorted(wanted)}
        denial = policy.management_denial(actor, target, capability_keys=granted | revoked)
        if denial is None and (granted or revoked):
            target.capabilities.set(Capability.objects.filter(key__in=wanted))
            for key in sorted(granted):
                record("user.permission.grant", "succeeded", actor=actor, target=target,
                       detail={**detail, "permission": key})
            for key in sorted(revoked):
                record("user.permission.revoke", "succeeded", actor=actor, target=target,
                       detail={**detail, "permission": key})
    if denial:  # recorded outside the rolled-back transaction, so the refusal is kept
        _refuse(actor, "user.permission.grant" if granted else "user.permission.revoke", denial, target,
                detail)
    policy.forget(target)
    return granted, revoked


def set_roles(actor, target: User, roles: Iterable[Role]) -> tuple[set, set]:
    """Make the user's roles `roles`; the target is locked and its roles read inside the transaction,
    as in `set_capabilities`."""
    wanted = {r.pk: r for r in roles}
    check_may_change(actor, target, "user.role.grant")
    denial, added, removed, detail = None, [], [], {}
    with _holding(target):
        before = {r.pk: r for r in target.roles.all()}
        added = [wanted[pk] for pk in wanted.keys() - before.keys()]
        removed = [before[pk] for pk in before.keys() - wanted.keys()]
        changed_caps = set(Capability.objects.filter(roles__in=[*added, *removed]).values_list("key", flat=True))
        detail = {"before": sorted(r.name for r in before.values()), "after": sorted(r.name for r in wanted.values())}
        denial = policy.management_denial(actor, target, role_caps=changed_caps)
        if denial is None and (added or removed):
            target.roles.set(wanted.values())
            for role in added:
                record("user.role.grant", "succeeded", actor=actor, target=target,
                       detail={**detail, "role": role.name})
            for role in removed:
                record("user.role.revoke", "succeeded", actor=actor, target=target,
                       detail={**detail, "role": role.name})
    if denial:  # recorded outside the rolled-back transaction, so the refusal is kept
        _refuse(actor, "user.role.grant" if added else "user.role.revoke", denial, target, detail)
    policy.forget(target)
    return {r.name for r in added}, {r.name for r in removed}


def change_device_access(actor, target: User, devices: Iterable[Device], grant: bool) -> int:
    """Grant or remove access to devices; one audit row per device that actually changed."""
    event = "user.device_access.grant" if grant else "user.device_access.revoke"
    devices = list(devices)
    _check(actor, event, target, {"devices": [d.pk for d in devices][:500]}, devices=devices)
    with _holding(target):
        held = set(target.devices.filter(pk__in=[d.pk for d in devices]).values_list("pk", flat=True))
        changing = [d for d in devices if (d.pk in held) != grant]
        (target.devices.add if grant else target.devices.remove)(*changing)
        for device in changing:
            record(event, "succeeded", actor=actor, device=device,
                   detail={"user": target.get_username(), "user_id": target.pk})
    return len(changing)


@contextmanager
def _holding(target: User):
    """A transaction holding the target's row: changes to one user's grants run one after another,
    each reading what the previous one left."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=target.pk).first()
        yield


def reset_password(actor, target: User) -> str:
    """A one-time password for `target`, to be replaced at their next sign-in; their sessions end.

    Whoever may reset a password may sign in as that user, so the rule is the one for switching a
    user on or off: the actor must hold every permission and device the user holds."""
    _check(actor, "user.password_reset", target, status_change=True)
    one_time = secrets.token_urlsafe(12)
    with _holding(target):
        target.set_password(one_time)
        target.must_change_password = True
        target.save(update_fields=["password", "must_change_password"])
        ended = _end_sessions(target)
        record("user.password_reset", "succeeded", actor=actor, target=target, detail={"sessions_ended": ended})
    return one_time


def reset_second_factors(actor, target: User) -> int:
    """Remove every second factor of `target` (they lost their phone and their recovery codes).
    Whoever does this can then sign in as them with a reset password, so the bar is a password
    reset's; their sessions end."""
    from . import factors

    _check(actor, "user.second_factor.reset", target, status_change=True)
    with _holding(target):
        removed = factors.remove_all(target)
        ended = _end_sessions(target)
        record("user.second_factor.reset", "succeeded", actor=actor, target=target,
               detail={"factors_removed": removed, "sessions_ended": ended})
    return removed


def _owner_only(actor, event: str, reason: str, detail: dict | None = None) -> None:
    """Settings that reach every user (who needs a second factor, what a provider's group gives)."""
    if not actor.is_account_owner:
        _refuse(actor, event, reason, detail=detail)


def check_may_set_two_factor_rule(actor, detail: dict | None = None) -> None:
    _owner_only(actor, "account.two_factor_rule", "Only the account owner sets who must have a second factor.",
                detail)


def check_may_map_groups(actor, detail: dict | None = None) -> None:
    _owner_only(actor, "sso.mapping", "Only the account owner maps single sign-on groups.", detail)


def set_two_factor_rule(actor, applies_to: str, capability_keys: Iterable[str]) -> TwoFactorRule:
    """The owner's rule for who must have a second factor. The owner needs one first: a rule they
    do not follow themselves would protect every account but the one that can change everything."""
    from . import factors

    keys = sorted(set(capability_keys)) if applies_to == TwoFactorRule.AppliesTo.CAPABILITIES else []
    detail = {"applies_to": applies_to, "capabilities": keys}
    check_may_set_two_factor_rule(actor, detail)
    if applies_to != TwoFactorRule.AppliesTo.NOBODY and not factors.has_second_factor(actor):
        _refuse(actor, "account.two_factor_rule", "Add your own second factor first (Security), then require "
                "one from others.", detail=detail)
    if applies_to == TwoFactorRule.AppliesTo.CAPABILITIES and not keys:
        _refuse(actor, "account.two_factor_rule", "Choose at least one permission whose holders need a second "
                "factor.", detail=detail)
    with transaction.atomic():
        rule = TwoFactorRule.objects.select_for_update().get(pk=1)
        rule.applies_to = applies_to
        rule.changed_at = timezone.now()
        rule.save(update_fields=["applies_to", "changed_at"])
        rule.capabilities.set(keys)
        record("account.two_factor_rule", "succeeded", actor=actor, detail=detail)
    return rule


def sign_in_from_provider(issuer: str, claims: dict, groups: list[str]) -> User:
    """The single sign-on provider vouched for `claims["sub"]`: find or create their user, and give
    them exactly what their groups are mapped to (a group left at the provider is gone here at the
    next sign-in). Refused, with a reason the person reads, when no group of theirs is mapped or
    their user is deactivated. Audited either way."""
    subject = str(claims["sub"])[:255]
    detail = {"subject": subject, "groups": groups}
    mappings = list(GroupMapping.objects.filter(group__in=groups).prefetch_related("roles", "devices"))
    known = ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if known is not None and not known.user.is_active:
        _refuse(known.user, "auth.sso", "Your user is deactivated in the portal. Ask your account owner.",
                detail=detail)
    if not mappings and (known is None or not known.user.is_account_owner):
        _refuse(known.user if known else None, "auth.sso",
                "None of your groups at the sign-in provider gives access to this portal. Ask your account "
                "owner to map one of them.", detail=detail)
    with transaction.atomic():
        identity = ExternalIdentity.objects.select_for_update().select_related("user").filter(
            issuer=issuer, subject=subject).first()
        created = identity is None
        if created:
            try:
                with transaction.atomic():  # two first sign-ins at once: the second finds the first's user
                    user = User(username=_free_username(claims), email=str(claims.get("email", ""))[:254],
                                first_name=str(claims.get("given_name", ""))[:150],
                                last_name=str(claims.get("family_name", ""))[:150])
                    user.set_unusable_password()  # signs in through the provider only
                    user.save()
                    identity = ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject)
            except IntegrityError:
                identity = ExternalIdentity.objects.select_related("user").filter(issuer=issuer,
                                                                                  subject=subject).first()
                if identity is None:  # another person took the same new name at the same moment
                    raise ChangeRefused("Two sign-ins chose the same username at once. Sign in again.") from None
                created = False
        user = identity.user
        if not user.is_account_owner:
            roles = {role for m in mappings for role in m.roles.all()}
            devices = {device for m in mappings for device in m.devices.all()}
            user.roles.set(roles)
            user.devices.set(devices)
            policy.forget(user)
            detail |= {"roles": sorted(r.name for r in roles), "devices": len(devices)}
        identity.groups = groups
        identity.last_sign_in = timezone.now()
        identity.save(update_fields=["groups", "last_sign_in"])
        record("auth.sso", "succeeded", actor=user, target=user, detail=detail | {"created": created})
    return user


def set_group_mapping(actor, group: str, roles: Iterable[Role], devices: Iterable[Device]) -> GroupMapping:
    """What the provider's `group` gives here (added or replaced). The owner's: a mapping grants
    to people the portal has not met yet."""
    roles, devices = list(roles), list(devices)
    detail = {"group": group, "roles": sorted(r.name for r in roles), "devices": len(devices)}
    check_may_map_groups(actor, detail)
    with transaction.atomic():
        mapping, created = GroupMapping.objects.get_or_create(group=group)
        mapping.roles.set(roles)
        mapping.devices.set(devices)
        record("sso.mapping", "succeeded", actor=actor, detail=detail | {"created": created})
    return mapping


def delete_group_mapping(actor, mapping_id: int) -> str | None:
    check_may_map_groups(actor, {"deleted": mapping_id})
    with transaction.atomic():
        mapping = GroupMapping.objects.select_for_update().filter(pk=mapping_id).first()
        if mapping is None:
            return None
        mapping.delete()
        record("sso.mapping", "succeeded", actor=actor, detail={"group": mapping.group, "deleted": True})
    return mapping.group


def _free_username(claims: dict) -> str:
    """A name from the provider's preferred_username (or the email's local part), in the portal's
    alphabet, made unique and not a look-alike of an existing one."""
    import re

    wanted = str(claims.get("preferred_username") or str(claims.get("email", "")).split("@")[0] or "sso-user")
    base = re.sub(r"[^A-Za-z0-9.@+_-]", "", wanted)[:140] or "sso-user"
    existing = list(User.objects.values_list("username", flat=True))
    candidate, n = base, 1
    while any(name.lower() == candidate.lower() for name in existing) or look_alike(candidate, existing):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def password_changed(user: User, how: str) -> None:
    """After a person set their own password (`how`: "change" or "reset link")."""
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
    record("auth.password_change", "succeeded", actor=user, target=user, detail={"how": how})


def set_active(actor, target: User, active: bool) -> None:
    """Deactivate (ending the user's sessions for good: they are deleted, so a reactivation does not
    bring them back) or reactivate a user."""
    event = "user.reactivate" if active else "user.deactivate"
    _check(actor, event, target, status_change=True)
    with _holding(target):
        if User.objects.filter(pk=target.pk).values_list("is_active", flat=True).first() == active:
            return
        target.is_active = active
        target.save(update_fields=["is_active"])
        ended = 0 if active else _end_sessions(target)
        record(event, "succeeded", actor=actor, target=target,
               detail={"sessions_ended": ended} if not active else None)


# Other ways in that end with the sessions (the API's tokens register here; accounts imports no app
# above it). Each takes the user and returns how many it ended.
_credential_enders: list[Callable[[User], int]] = []


def on_sessions_ended(ender: Callable[[User], int]) -> None:
    _credential_enders.append(ender)


def _end_sessions(user: User) -> int:
    """Delete every stored session signed in as `user` (a portal has few sessions; each is read
    once), and end the other ways in registered with on_sessions_ended (API tokens)."""
    from django.contrib.sessions.models import Session

    for ender in _credential_enders:
        ender(user)

    mine = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
            if str(s.get_decoded().get("_auth_user_id")) == str(user.pk)]
    Session.objects.filter(pk__in=mine).delete()
    return len(mine)


@transaction.atomic
def ensure_account_owner(username: str, password_file: Path) -> tuple[User, str]:
    """The demo account's owner, created once; its password is kept in `password_file`.

    Running it again changes nothing (the password stays), so `make run` is idempotent.
    """
    return ensure_demo_user(username, password_file, owner=True)


@transaction.atomic
def ensure_demo_user(username: str, password_file: Path, *, owner: bool = False, roles: Iterable[str] = (),
                     capabilities: Iterable[str] = (), devices: Iterable[Device] = ()) -> tuple[User, str]:
    """A demo user with a password kept in `password_file`; idempotent (grants are only added)."""
    password = password_file.read_text().strip() if password_file.exists() else ""
    user = (User.objects.filter(is_account_owner=True).first() if owner else None) or \
        User.objects.filter(username=username).first()
    created = user is None
    if created:
        user = User(username=username, is_account_owner=owner)
    if not password or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    user.is_active = True
    user.save()
    if created:
        record("user.create", "succeeded", actor=None, target=user, reason="demo account set-up")
    user.roles.add(*Role.objects.filter(name__in=list(roles)))
    user.capabilities.add(*Capability.objects.filter(key__in=list(capabilities)))
    user.devices.add(*devices)
    return user, password


class OwnerExists(Exception):
    pass


@transaction.atomic
def create_account_owner(username: str) -> tuple[User, str]:
    """A deployment's first user: the account owner, with a one-time password to replace at the
    first sign-in. Refused once an owner exists (there is one per account)."""
    if User.objects.filter(is_account_owner=True).exists():
        raise OwnerExists("This account already has an owner; sign in as them, or ask them.")
    if User.objects.filter(username=username).exists():
        raise UsernameTaken(f"The username {username} is taken.")
    password = secrets.token_urlsafe(12)
    user = User(username=username, is_account_owner=True, must_change_password=True)
    user.set_password(password)
    user.save()
    record("user.create", "succeeded", actor=None, target=user, reason="account owner created at deployment")
    return user, password


def set_own_email(user, email: str) -> None:
    """A person's own address for notifications (and "Forgot your password?"); audited, the old and
    new domains only."""
    from django.core.validators import validate_email

    email = email.strip()
    if email:
        validate_email(email)
    if email == user.email:
        return
    before = user.email
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(email=email)
        record("user.email", "succeeded", actor=user, target=user,
               detail={"from_domain": before.rpartition("@")[2], "to_domain": email.rpartition("@")[2]})
    user.email = email
