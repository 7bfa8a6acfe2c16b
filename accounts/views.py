from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from . import policy, selectors, services
from .capabilities import BY_KEY, USER_MANAGE
from .forms import CapabilitiesForm, DeviceAccessForm, RolesForm, StatusForm, UserCreateForm
from .models import User

NEED_MANAGE_USERS = "You need the Manage Users permission to manage users."
PICKER_LIMIT = 50


def _require_manager(request) -> None:
    if not policy.can(request.user, USER_MANAGE):
        raise PermissionDenied(NEED_MANAGE_USERS)


def _refused(request, error: services.ChangeRefused):
    raise PermissionDenied(error.reason)


def _bad_form(request, form, target: User):
    errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    messages.error(request, f"Nothing was changed: {errors}")
    return redirect("accounts:detail", pk=target.pk) if target else HttpResponseBadRequest(errors)


@require_safe
def users_list(request):
    _require_manager(request)
    return render(request, "accounts/users.html", {"users": selectors.users_list()})


def user_create(request):
    if request.method == "POST":
        try:
            services.check_may_change(request.user, None, "user.create", request=request)
        except services.ChangeRefused as error:
            return _refused(request, error)
    _require_manager(request)
    form = UserCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(request.user, request=request, username=data["username"],
                                        password=data["password"], email=data["email"],
                                        first_name=data["first_name"], last_name=data["last_name"],
                                        role=data["role"])
        except services.ChangeRefused as error:
            return _refused(request, error)
        messages.success(request, f"User {user.username} created"
                         + (f" with the {data['role'].name} role." if data["role"] else " with no permissions."))
        return redirect("accounts:detail", pk=user.pk)
    return render(request, "accounts/user_new.html", {"form": form}, status=400 if form.errors else 200)


@require_safe
def user_detail(request, pk: int):
    _require_manager(request)
    target = get_object_or_404(User, pk=pk)
    search = request.GET.get("dq", "")[:100]
    grantable = selectors.grantable_devices(request.user, target, search)
    return render(request, "accounts/user_detail.html", {
        "target": target,
        "capability_groups": selectors.capability_rows(request.user, target),
        "roles": selectors.role_rows(request.user, target),
        "access": selectors.device_access(target),
        "grantable": grantable[:PICKER_LIMIT],
        "grantable_count": grantable.count(),
        "search": search,
        "status_locked": policy.management_denial(request.user, target),
    })


@require_POST
def user_capabilities(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    try:
        services.check_may_change(request.user, target, "user.permission.grant", request=request)
    except services.ChangeRefused as error:
        return _refused(request, error)
    form = CapabilitiesForm(request.POST)
    if not form.is_valid():
        return _bad_form(request, form, target)
    try:
        granted, revoked = services.set_capabilities(request.user, target, form.cleaned_data["capabilities"],
                                                     request=request)
    except services.ChangeRefused as error:
        return _refused(request, error)
    changes = [f"granted {BY_KEY[k].name}" for k in sorted(granted)] + [
        f"revoked {BY_KEY[k].name}" for k in sorted(revoked)]
    messages.success(request, f"{target.username}: " + ("; ".join(changes) if changes else "no change") + ".")
    return redirect("accounts:detail", pk=target.pk)


@require_POST
def user_roles(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    try:
        services.check_may_change(request.user, target, "user.role.grant", request=request)
    except services.ChangeRefused as error:
        return _refused(request, error)
    form = RolesForm(request.POST)
    if not form.is_valid():
        return _bad_form(request, form, target)
    try:
        added, removed = services.set_roles(request.user, target, form.cleaned_data["roles"], request=request)
    except services.ChangeRefused as error:
        return _refused(request, error)
    changes = [f"role {n} added" for n in sorted(added)] + [f"role {n} removed" for n in sorted(removed)]
    messages.success(request, f"{target.username}: " + ("; ".join(changes) if changes else "no change") + ".")
    return redirect("accounts:detail", pk=target.pk)


@require_POST
def user_devices(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    try:
        services.check_may_change(request.user, target, "user.device_access.grant", request=request)
    except services.ChangeRefused as error:
        return _refused(request, error)
    form = DeviceAccessForm(request.POST)
    if not form.is_valid():
        return _bad_form(request, form, target)
    devices, action = list(form.cleaned_data["devices"]), form.cleaned_data["action"]
    try:
        if action == "add":
            count = services.grant_device_access(request.user, target, devices, request=request)
            messages.success(request, f"{target.username} now has access to {count} more device{'s' * (count != 1)}.")
        else:
            count = services.revoke_device_access(request.user, target, devices, request=request)
            messages.success(request, f"{target.username} no longer has access to {count} device{'s' * (count != 1)}.")
    except services.ChangeRefused as error:
        return _refused(request, error)
    return redirect("accounts:detail", pk=target.pk)


@require_POST
def user_status(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    try:
        services.check_may_change(request.user, target, "user.deactivate", request=request)
    except services.ChangeRefused as error:
        return _refused(request, error)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _bad_form(request, form, target)
    active = form.cleaned_data["active"]
    try:
        services.set_active(request.user, target, active, request=request)
    except services.ChangeRefused as error:
        return _refused(request, error)
    messages.success(request, f"{target.username} is {'active again' if active else 'deactivated and logged out'}.")
    return redirect("accounts:detail", pk=target.pk)
