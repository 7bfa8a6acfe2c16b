from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import policy
from accounts import services as account_services
from accounts.refusals import Why

from . import selectors, services
from .forms import PreferencesForm, WebhookForm
from .payloads import SIGNATURE_HEADER, TOLERANCE_SECONDS


@require_http_methods(["GET", "POST"])
def preferences(request):
    current = services.preferences_of(request.user)
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial={
        "events": current.events, "every_device": current.every_device, "email": request.user.email})
    if request.method == "POST" and form.is_valid():
        account_services.set_own_email(request.user, form.cleaned_data["email"])
        services.set_preferences(request.user, form.cleaned_data["events"], form.cleaned_data["every_device"])
        messages.success(request, "Saved. Notifications go to " + (request.user.email or "no address: add an email "
                                                                   "address to your account to receive them") + ".")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {
        "form": form, "email": request.user.email,
        "may_configure_webhooks": policy.may_configure_webhooks(request.user)}, status=400 if form.errors else 200)


def _owner_page(request) -> None:
    if not policy.may_configure_webhooks(request.user):
        raise PermissionDenied("Only the account owner configures webhooks.")


def _refused(refused: services.NotificationRefused):
    if refused.why == Why.NOT_ALLOWED:
        raise PermissionDenied(refused.reason)


@require_http_methods(["GET", "POST"])
def webhooks(request):
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            services.check_may_configure(request.user, "webhook.create")  # a refusal is the first answer
            if form.is_valid():
                webhook = services.create_webhook(request.user, form.cleaned_data["name"], form.cleaned_data["url"],
                                                  form.cleaned_data["events"], form.cleaned_data["slack_format"])
                messages.success(request, f"Webhook “{webhook.name}” added. Its signing secret is below; "
                                          "press Send test to check the endpoint.")
                return redirect("notifications:webhook", pk=webhook.pk)
        except services.NotificationRefused as refused:
            _refused(refused)
            form.add_error(None, refused.reason)
    _owner_page(request)
    return render(request, "notifications/webhooks.html", {"form": form, "webhooks": selectors.webhooks()},
                  status=400 if form.errors else 200)


@require_safe
def webhook(request, pk: int):
    _owner_page(request)
    hook = get_object_or_404(selectors.webhooks(), pk=pk)
    return render(request, "notifications/webhook.html", {
        "webhook": hook, "deliveries": selectors.deliveries(hook), "signature_header": SIGNATURE_HEADER,
        "tolerance": TOLERANCE_SECONDS})


def _webhook_to_change(request, pk: int, event: str):
    """The owner's webhook (a refusal first, audited; then 404 if there is no such webhook)."""
    try:
        services.check_may_configure(request.user, event)
    except services.NotificationRefused as refused:
        _refused(refused)
    return get_object_or_404(selectors.webhooks(), pk=pk)


@require_POST
def webhook_test(request, pk: int):
    hook = _webhook_to_change(request, pk, "webhook.test")
    services.send_test(request.user, hook)
    messages.info(request, "Test sent. Its delivery shows below within a few seconds (reload the page).")
    return redirect("notifications:webhook", pk=hook.pk)


@require_POST
def webhook_delete(request, pk: int):
    hook = _webhook_to_change(request, pk, "webhook.delete")
    services.delete_webhook(request.user, hook)
    messages.success(request, f"Webhook “{hook.name}” deleted; it receives nothing more.")
    return redirect("notifications:webhooks")
