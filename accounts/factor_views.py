"""Second factors, seen by their owner: sign-in and step-up confirmation, the Security page,
adding an authenticator app, recovery codes, removing a factor."""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from . import factors, policy


def _safe_next(request, default: str) -> str:
    """A path on this site only (never another host, never a view name for `redirect`)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        return target
    return default


def step_up_redirect(request, next_url: str):
    """Where to send someone whose change needs a fresh second factor first."""
    messages.info(request, "Confirm it is you with your second factor, then do it again: nothing was changed yet.")
    return redirect(reverse("second_factor") + "?" + urlencode({"next": next_url}))


@never_cache
@sensitive_post_parameters("code")
def second_factor(request):
    """The second step of signing in, and the step-up confirmation later (the same proof)."""
    signing_in = not request.user.is_verified()
    next_url = _safe_next(request, reverse("devices:list"))
    if not factors.has_second_factor(request.user):
        return HttpResponseRedirect(next_url)
    error = ""
    if request.method == "POST":
        try:
            factors.verify_code(request, request.POST.get("code", ""), purpose="sign-in" if signing_in else "step-up")
        except factors.FactorError as refused:
            error = str(refused)
        else:
            return HttpResponseRedirect(next_url)
    kinds = {f.kind for f in factors.factors_of(request.user)}
    return render(request, "registration/second_factor.html", {
        "signing_in": signing_in, "next": next_url, "error": error,
        "has_app": "totp" in kinds, "has_passkey": "passkey" in kinds, "has_recovery": "recovery" in kinds,
    }, status=400 if error else 200)


@never_cache
@require_safe
def security(request):
    mine = factors.factors_of(request.user)
    return render(request, "accounts/security.html", {
        "factors": mine,
        "has_factor": any(f.kind in ("totp", "passkey") for f in mine),
        "fresh": factors.is_fresh(request),
        "new_codes": factors.codes_to_show(request),
    })


@never_cache
@sensitive_post_parameters("code")
def authenticator_add(request):
    if factors.step_up_needed(request):
        return step_up_redirect(request, reverse("authenticator_add"))
    device = factors.pending_authenticator(request.user, request.session.get("pending_totp"))
    error = ""
    if request.method == "POST" and device is not None:
        try:
            codes = factors.confirm_authenticator(request, device, request.POST.get("code", ""))
        except factors.FactorError as refused:
            error = str(refused)
        else:
            request.session.pop("pending_totp", None)
            messages.success(request, "Your authenticator app is set up: signing in now asks for its code.")
            if codes:
                return _show_codes(request, codes, first=True)
            return redirect("security")
    if device is None or request.method == "GET":
        device = factors.start_authenticator(request.user)
        request.session["pending_totp"] = device.pk
    return render(request, "accounts/authenticator_add.html", {
        "qr": factors.qr_data_uri(device), "secret": factors.secret_text(device), "error": error,
    }, status=400 if error else 200)


@require_POST
def recovery_codes(request):
    if factors.step_up_needed(request):
        return step_up_redirect(request, reverse("security"))
    if not factors.has_second_factor(request.user):
        messages.error(request, "Add an authenticator app or a passkey first: recovery codes stand in for one.")
        return redirect("security")
    return _show_codes(request, factors.new_recovery_codes(request), first=False)


@require_POST
def factor_remove(request, kind: str, pk: int):
    if not factors.owns(request.user, kind, pk):
        raise Http404("You have no such second factor (it may have been removed already).")
    if factors.step_up_needed(request):
        return step_up_redirect(request, reverse("security"))
    if not factors.remove(request.user, kind, pk):
        raise Http404("You have no such second factor (it may have been removed already).")
    if factors.has_second_factor(request.user):
        messages.success(request, "Removed.")
    elif policy.second_factor_required(request.user):
        messages.warning(request, "Removed. Your account owner requires a second factor: add another to go on.")
    else:
        messages.success(request, "Removed. You have no second factor now: signing in asks only for your password.")
    return redirect("security")


def _show_codes(request, codes: list[str], *, first: bool):
    response = render(request, "accounts/recovery_codes.html", {"codes": codes, "first": first})
    response["Cache-Control"] = "no-store"
    return response
