"""The API tokens page (HTML, signed in): make a token, see it once, see when each was used, revoke."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import factors
from accounts.factor_views import step_up_redirect
from accounts.refusals import Refused, Why
from audit.services import record

from . import selectors, services
from .forms import TokenForm


@never_cache
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(request.POST if request.method == "POST" else None)
    secret, status = "", 200
    if request.method == "POST":
        if factors.step_up_needed(request):  # a token is a way in: those with a second factor prove it first
            record("user.step_up", "denied", target=request.user, reason="api.token.create needs a second factor "
                   "proved in the last few minutes.", detail={"change": "api.token.create"})
            return step_up_redirect(request, reverse("api:tokens"))
        if form.is_valid():
            try:
                token, secret = services.create_token(request.user, name=form.cleaned_data["name"],
                                                      days=form.cleaned_data["days"],
                                                      scopes=form.cleaned_data["scopes"])
            except Refused as refused:
                if refused.why == Why.NOT_ALLOWED:
                    raise PermissionDenied(refused.reason) from None
                form.add_error(None, refused.reason)
            else:
                form = TokenForm()
                messages.success(request, f"Token “{token.name}” created. Copy it now: it is shown only once.")
        status = 400 if form.errors else 200
    return render(request, "api/tokens.html", {"form": form, "secret": secret, "tokens": selectors.tokens_of(
        request.user)}, status=status)


@require_POST
def revoke(request, pk: int):
    token = services.revoke_token(request.user, pk)
    if token is None:
        raise Http404("You have no such token.")
    messages.success(request, f"Token “{token.name}” is revoked: it stops working at once.")
    return redirect("api:tokens")
