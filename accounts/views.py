from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from audit.services import client_ip, record

from . import factors, lockout, policy, selectors, services
from .capabilities import BY_KEY, USER_MANAGE
from .decorators import demand, requires
from .factor_views import step_up_redirect
from .forms import (
    CapabilitiesForm,
    DeviceAccessForm,
    GroupMappingForm,
    RolesForm,
    StatusForm,
    TwoFactorRuleForm,
    UserCreateForm,
)
from .models import User

NEED_MANAGE_USERS = "You need the Manage Users permission to manage users."
PICKER_LIMIT = 50


def lockout_message() -> str:
    """What is locked (this username, from this address), until when, and who is not affected."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    until = timezone.now() + settings.AXES_COOLOFF_TIME
    return (f"Too many wrong passwords for this username from your address. It is locked for {minutes} minutes "
            f"(until {until:%H:%M} UTC) from here only: other people, and this username from other networks, "
            "can still sign in. If it was not you, tell your account owner: the audit log lists the failed "
            "sign-ins with their addresses.")


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout answer for the pages: the login page (or the reveal's password prompt)
    says it (rescueportal.errors.locked_out answers the API)."""
    return _answer_locked(request, lockout_message())


def _answer_locked(request, message: str):
    template = "registration/_locked_out_fragment.html" if request.headers.get("HX-Request") \
        else "registration/locked_out.html"
    return render(request, template, {"message": message}, status=429)


class PortalLoginView(auth_views.LoginView):
    """Django's login, plus the per-address flood pause and a warning before the last try."""

    def post(self, request, *args, **kwargs):
        if lockout.address_flooding(client_ip(request)):
            minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
            return _answer_locked(request, (
                f"Too many failed sign-ins from your network ({settings.ADDRESS_FAILURE_LIMIT} or more, for several "
                f"usernames). Sign-ins from it are paused for up to {minutes} minutes; other networks are not "
                "affected. Nothing was checked."))
        if not settings.LOCAL_PASSWORDS and not User.objects.filter(
                username__iexact=request.POST.get("username", "")[:150], is_account_owner=True).exists():
            record("auth.login_failed", "denied", reason="Local passwords are switched off (LOCAL_PASSWORDS=false).",
                   detail={"username": request.POST.get("username", "")[:150]})
            messages.error(request, f"Passwords are switched off here: sign in with {settings.SSO_LABEL}.")
            return redirect("login")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_label"] = settings.SSO_LABEL if settings.OIDC_ISSUER else ""
        context["local_passwords"] = settings.LOCAL_PASSWORDS
        context["tries_left"] = lockout.tries_left(getattr(self.request, "axes_failures_since_start", None))
        context["cooloff_minutes"] = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        return context


manager_only = requires(USER_MANAGE, event="user.view", reason=NEED_MANAGE_USERS)


def _refused(request, error: services.ChangeRefused):
    raise PermissionDenied(error.reason)


def _bad_form(request, form, target: User):
    errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    messages.error(request, f"Nothing was changed: {errors}")
    return redirect("accounts:detail", pk=target.pk) if target else HttpResponseBadRequest(errors)


@require_safe
@manager_only
def users_list(request):
    return render(request, "accounts/users.html", {
        "users": selectors.users_list(), "rule": (rule := selectors.two_factor_rule()),
        "rule_form": TwoFactorRuleForm(initial=selectors.two_factor_rule_initial(rule)),
        "owner_has_factor": request.user.is_account_owner and factors.has_second_factor(request.user)})


def user_create(request):
    if request.method == "POST":
        try:
            services.check_may_change(request.user, None, "user.create")
        except services.ChangeRefused as error:
            return _refused(request, error)
        if stale := _stale_factor(request, "user.create", None, reverse("accounts:create")):
            return stale
    demand(request, USER_MANAGE, event="user.view", reason=NEED_MANAGE_USERS)
    form = UserCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(request.user, username=data["username"],
                                        password=data["password"], email=data["email"],
                                        first_name=data["first_name"], last_name=data["last_name"],
                                        role=data["role"])
        except services.ChangeRefused as error:
            return _refused(request, error)
        except services.UsernameTaken as taken:
            form.add_error("username", str(taken))
            return render(request, "accounts/user_new.html", {"form": form}, status=400)
        messages.success(request, f"User {user.username} created"
                         + (f" with the {data['role'].name} role." if data["role"] else " with no permissions."))
        return redirect("accounts:detail", pk=user.pk)
    return render(request, "accounts/user_new.html", {"form": form}, status=400 if form.errors else 200)


@require_safe
@manager_only
def user_detail(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    search = request.GET.get("dq", "")[:100]
    grantable = selectors.grantable_devices(request.user, target, search)
    return render(request, "accounts/user_detail.html", {
        "target": target,
        "capability_groups": selectors.capability_rows(request.user, target),
        "roles": selectors.role_rows(request.user, target),
        "access": selectors.device_access(target),
        "whole_kinds": selectors.whole_kinds(target),
        "grantable": grantable[:PICKER_LIMIT],
        "grantable_count": grantable.count(),
        "search": search,
        "status_locked": policy.management_denial(request.user, target, status_change=True),
        # A page where nothing can be changed (one's own, the owner's) says so once, offers no button.
        "read_only": policy.management_denial(request.user, target),
        "target_factors": factors.factors_of(target),
    })


def _stale_factor(request, event: str, target: User | None, back: str):
    """Every Manage Users change asks those with a second factor for a fresh proof of it; the
    refusal is audited and the person is led to confirm, then to do it again."""
    if not factors.step_up_needed(request):
        return None
    record("user.step_up", "denied", target=target, reason=f"{event} needs a second factor proved in the last "
           f"{settings.STEP_UP_MINUTES} minutes.", detail={"change": event})
    return step_up_redirect(request, back)


def _may_change_now(request, target: User, event: str):
    """The general rules (raises ChangeRefused, audited), then a fresh second factor: None when the
    change may go on, else the way to the confirmation page."""
    services.check_may_change(request.user, target, event)
    return _stale_factor(request, event, target, reverse("accounts:detail", args=[target.pk]))


def _change(request, pk: int, event: str, form_class, apply):
    """One user-management POST: the general rules first (a refusal is audited), a fresh second
    factor, then the form, then `apply(target, cleaned_data)`, which returns the message saying
    what changed."""
    target = get_object_or_404(User, pk=pk)
    form = form_class(request.POST)
    try:
        if stale := _may_change_now(request, target, event):
            return stale
        if not form.is_valid():
            return _bad_form(request, form, target)
        messages.success(request, apply(target, form.cleaned_data))
    except services.ChangeRefused as error:
        return _refused(request, error)
    return redirect("accounts:detail", pk=target.pk)


def _changes(target: User, done: list[str]) -> str:
    return f"{target.username}: " + ("; ".join(done) if done else "no change") + "."


@require_POST
def user_capabilities(request, pk: int):
    def apply(target, data):
        granted, revoked = services.set_capabilities(request.user, target, data["capabilities"])
        return _changes(target, [f"granted {BY_KEY[k].name}" for k in sorted(granted)]
                        + [f"revoked {BY_KEY[k].name}" for k in sorted(revoked)])

    return _change(request, pk, "user.permission.grant", CapabilitiesForm, apply)


@require_POST
def user_roles(request, pk: int):
    def apply(target, data):
        added, removed = services.set_roles(request.user, target, data["roles"])
        return _changes(target, [f"role {n} added" for n in sorted(added)]
                        + [f"role {n} removed" for n in sorted(removed)])

    return _change(request, pk, "user.role.grant", RolesForm, apply)


@require_POST
def user_devices(request, pk: int):
    def apply(target, data):
        grant = data["action"] == "add"
        count = services.change_device_access(request.user, target, data["devices"], grant)
        plural = "s" * (count != 1)
        if grant:
            return f"{target.username} now has access to {count} more device{plural}."
        return f"{target.username} no longer has access to {count} device{plural}."

    return _change(request, pk, "user.device_access.grant", DeviceAccessForm, apply)


@require_POST
def user_status(request, pk: int):
    def apply(target, data):
        services.set_active(request.user, target, data["active"])
        return f"{target.username} is {'active again' if data['active'] else 'deactivated and logged out'}."

    return _change(request, pk, "user.deactivate", StatusForm, apply)


# --- Passwords: one's own, a reset by a manager, and "Forgot your password?" -------------------

def password_change(request):
    """Change one's own password (old + new, Django's validators); the session stays signed in."""
    if not request.user.has_usable_password():
        return render(request, "accounts/password_change.html", {"sso_only": True})
    form = PasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            update_session_auth_hash(request, user)  # this session stays; others keep the old hash and end
            services.password_changed(user, "change")
            messages.success(request, "Your password was changed. Other sessions of yours are signed out.")
            return redirect("devices:list")
        if "old_password" in form.errors:
            record("auth.password_change", "failed", reason="The current password was wrong.")
    return render(request, "accounts/password_change.html", {"form": form, "forced": request.user.must_change_password},
                  status=400 if form.errors else 200)


@require_POST
def user_password_reset(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    try:
        if stale := _may_change_now(request, target, "user.password_reset"):
            return stale
        one_time = services.reset_password(request.user, target)
    except services.ChangeRefused as error:
        return _refused(request, error)
    response = render(request, "accounts/one_time_password.html", {"target": target, "one_time": one_time})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def user_second_factor_reset(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    try:
        if stale := _may_change_now(request, target, "user.second_factor.reset"):
            return stale
        removed = services.reset_second_factors(request.user, target)
    except services.ChangeRefused as error:
        return _refused(request, error)
    messages.success(request, f"{target.username}'s second factors were removed ({removed}) and their sessions "
                     "signed out. They sign in with their password" + (" and are led to add a new factor."
                                                                       if policy.second_factor_required(target)
                                                                       else "."))
    return redirect("accounts:detail", pk=pk)


@require_POST
def two_factor_rule(request):
    form = TwoFactorRuleForm(request.POST)
    try:
        services.check_may_set_two_factor_rule(request.user)
        if not form.is_valid():
            messages.error(request, "Nothing was changed: "
                           + "; ".join(e for errs in form.errors.values() for e in errs))
            return redirect("accounts:list")
        if stale := _stale_factor(request, "account.two_factor_rule", None, reverse("accounts:list")):
            return stale
        rule = services.set_two_factor_rule(request.user, form.cleaned_data["applies_to"],
                                            form.cleaned_data["capabilities"])
    except services.ChangeRefused as error:
        return _refused(request, error)
    messages.success(request, f"Second factor required of: {rule.get_applies_to_display().lower()}"
                     + (f" ({', '.join(BY_KEY[k].name for k in form.cleaned_data['capabilities'])})"
                        if rule.applies_to == "capabilities" else "") + ".")
    return redirect("accounts:list")


def sso_mappings(request):
    """The owner's page: which of the provider's groups give which roles and devices."""
    try:
        services.check_may_map_groups(request.user)
    except services.ChangeRefused as error:
        return _refused(request, error)
    form = GroupMappingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.set_group_mapping(request.user, data["group"], data["roles"], data["devices"])
        messages.success(request, f"Members of {data['group']} now get this at their next sign-in.")
        return redirect("accounts:sso")
    return render(request, "accounts/sso.html", {
        "form": form, "mappings": selectors.group_mappings(), "issuer": settings.OIDC_ISSUER,
        "local_passwords": settings.LOCAL_PASSWORDS, "identities": selectors.external_identities(),
    }, status=400 if form.errors else 200)


@require_POST
def sso_mapping_delete(request, pk: int):
    try:
        group = services.delete_group_mapping(request.user, pk)
    except services.ChangeRefused as error:
        return _refused(request, error)
    if group is None:
        raise Http404("That mapping does not exist (any more).")
    messages.success(request, f"{group} no longer gives anything here, from its members' next sign-in.")
    return redirect("accounts:sso")


class ForgotPasswordView(auth_views.PasswordResetView):
    """Django's reset flow: the same answer whether or not the address is known (no enumeration)."""

    template_name = "registration/forgot.html"
    email_template_name = "registration/reset_email.txt"
    subject_template_name = "registration/reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        record("auth.password_reset_request", "requested",
               detail={"known_address": User.objects.filter(email__iexact=form.cleaned_data["email"],
                                                            is_active=True).exists()})
        return super().form_valid(form)


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(form.user, "reset link")
        return response
