import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import factors, policy
from accounts import services as account_services
from accounts.capabilities import BY_KEY
from accounts.refusals import Why
from audit.services import record
from devices import provider
from devices.models import Device
from devices.selectors import device_detail

from . import panels, selectors, services
from .forms import BatchForm, ConfirmForm, ExtendForm, ReauthForm, batch_token, confirmation_token, is_device_id
from .models import Operation

Kind = Operation.Kind


def _device_for(request, pk: int, kind: str) -> Device:
    """The device, if the user may see it (else 404) and may do this to it (else 403)."""
    device = device_detail(request.user, pk)
    if not policy.can(request.user, services.CAPABILITY[kind], device):
        reason = f"You need the {BY_KEY[services.CAPABILITY[kind]].name} permission to do this on this device."
        if request.method == "POST":
            record(services.EVENTS[kind], "denied", request=request, device=device, reason=reason)
        raise PermissionDenied(reason)
    return device


def _request(request, device: Device, kind: str, subject: str = "", **extra):
    form = ConfirmForm(request.POST, user=request.user, device=device, kind=kind, subject=subject)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        if "confirmation" in form.errors or "time_limit" in form.errors:  # forged, not a slip: recorded
            record(services.EVENTS[kind], "denied", request=request, device=device, reason=problems)
        messages.error(request, f"Nothing was requested. {problems} Check the details and press Yes again.")
        return redirect(request.path)
    if "time_limit" in form.fields:
        extra["time_limit_minutes"] = form.cleaned_data["time_limit"]
    try:
        op = services.request_operation(request.user, device, kind, reason=form.cleaned_data["reason"],
                                        confirmation=form.cleaned_data["confirmation"], **extra)
    except services.OperationRefused as refused:
        if refused.why == Why.NOT_ALLOWED:
            raise PermissionDenied(refused.reason) from None
        if refused.operation:
            messages.warning(request, format_html('{} <a href="{}">See its progress.</a>', refused.reason,
                                                  reverse("workflows:operation", args=[refused.operation.pk])))
            return redirect("workflows:operation", pk=refused.operation.pk)
        messages.error(request, refused.reason)
        return redirect("devices:detail", pk=device.pk)
    messages.success(request, f"{op.get_kind_display()} requested for {device}. This process might take "
                              "several minutes; this page follows it.", extra_tags=REQUESTED_TAG)
    return redirect("workflows:operation", pk=op.pk)


def _confirm(request, device: Device, kind: str, context: dict, subject: str = ""):
    check = selectors.preflight(device, kind)
    return render(request, "workflows/confirm.html", {
        "device": device, "kind": kind, "check": check, **context,
        "form": ConfirmForm(kind=kind, initial={
            "confirmation": confirmation_token(request.user, device, kind, subject)})})


@require_http_methods(["GET", "POST"])
def rescue(request, pk: int):
    device = _device_for(request, pk, Kind.RESCUE)
    windows_guest = device.kind == Device.Kind.VIRTUAL and device.os_family == Device.OsFamily.WINDOWS
    if windows_guest:  # no rescue kernel for Windows guests: the rescue image instead
        return render(request, "workflows/rescue_windows.html", {"device": device})
    if request.method == "POST":
        return _request(request, device, Kind.RESCUE, rescue_os=selectors.rescue_environment(device))
    return _confirm(request, device, Kind.RESCUE, {
        "title": "Rescue mode", "question": "Change this device to rescue mode immediately?"})


@require_safe
def boot_image(request, pk: int):
    device = _device_for(request, pk, Kind.BOOT_IMAGE)
    if device.kind != Device.Kind.VIRTUAL:
        raise Http404("Boot from image is offered for virtual servers only.")
    images, error = [], None
    try:
        images = selectors.public_iso_images(device)
    except provider.ProviderError as exc:
        error = exc.message
    return render(request, "workflows/boot_image.html", {
        "device": device, "images": images, "error": error, "recommended": selectors.RECOMMENDED_ISO,
        "mounted": selectors.current_image(device), "preselect": request.GET.get("iso", "")})


@require_http_methods(["GET", "POST"])
def boot_image_confirm(request, pk: int, image_id: int):
    device = _device_for(request, pk, Kind.BOOT_IMAGE)
    if device.kind != Device.Kind.VIRTUAL:
        raise Http404("Boot from image is offered for virtual servers only.")
    try:
        image = next((i for i in selectors.public_iso_images(device) if int(i["id"]) == image_id), None)
    except provider.ProviderError as exc:
        messages.error(request, f"The list of images could not be read: {exc.message}")
        return redirect("workflows:boot_image", pk=device.pk)
    if image is None:
        raise Http404("There is no public image with this id.")
    if request.method == "POST":
        return _request(request, device, Kind.BOOT_IMAGE, subject=f"image:{image['id']}",
                        iso_image={"id": image["id"], "name": image["name"]})
    return _confirm(request, device, Kind.BOOT_IMAGE, {
        "title": "Boot from image", "image": image,
        "question": f"Boot this device from {image['name']} immediately?"}, subject=f"image:{image['id']}")


@require_http_methods(["GET", "POST"])
def unload_image(request, pk: int):
    device = _device_for(request, pk, Kind.UNLOAD_IMAGE)
    if request.method == "POST":
        return _request(request, device, Kind.UNLOAD_IMAGE)
    return _confirm(request, device, Kind.UNLOAD_IMAGE, {
        "title": "Continue", "mounted": selectors.current_image(device),
        "question": "Unload the current image and return to normal booting?"})


@require_http_methods(["GET", "POST"])
def restart(request, pk: int):
    device = _device_for(request, pk, Kind.RESTART)
    if request.method == "POST":
        return _request(request, device, Kind.RESTART)
    return _confirm(request, device, Kind.RESTART, {
        "title": "Restart", "question": "Restart this device now?"})


@require_safe
def operation(request, pk: int):
    op = selectors.operation_for(request.user, pk)
    session = panels.session_context(request.user, op) if op.is_session and op.ends_at else {}
    goes_to_rescue = op.kind in (Kind.RESCUE, Kind.BOOT_IMAGE) and (op.is_session or op.is_active)
    connect = panels.connect(request, op.device, on_device_page=False) if goes_to_rescue else ""
    # "… requested" is news only while the operation runs: once it has ended, its card says how.
    return render(request, "workflows/operation.html", {"op": op, "device": op.device, "connect": connect,
                                                         "stale_message_tag": "" if op.is_active else REQUESTED_TAG,
                                                         **session})


REQUESTED_TAG = "operation-requested"


@require_safe
def operation_progress(request, pk: int):
    """The progress card, polled. The poll says which state it last showed: the answer that first
    shows the operation finished takes the focus to its result (when the focus was lost in the
    swap), and, for a device now in rescue, fills the page's connection slot."""
    op = selectors.operation_for(request.user, pk)
    session = panels.session_context(request.user, op) if op.is_session and op.ends_at else {}
    finished_now = not op.is_active and request.headers.get("X-Portal-Seen") in Operation.ACTIVE_STATES
    on_device_page = request.headers.get("X-Portal-Page") == "device"
    connect = panels.connect(request, op.device, out_of_band=True, on_device_page=on_device_page) \
        if finished_now and op.is_session else ""
    return render(request, "workflows/_progress.html", {"op": op, "finished_now": finished_now,
                                                        "connect_oob": connect, "on_device_page": on_device_page,
                                                        **session})


def _session_for(request, pk: int) -> Operation:
    """A rescue session the user may see (else 404)."""
    return selectors.operation_for(request.user, pk)


def _refused(request, op: Operation, refused: services.OperationRefused):
    if refused.why == Why.NOT_ALLOWED:
        raise PermissionDenied(refused.reason)
    messages.error(request, refused.reason)
    return redirect("workflows:operation", pk=op.pk)


@require_POST
def extend_session(request, pk: int):
    op = _session_for(request, pk)
    try:
        services.check_may_act_on_session(request.user, op, "rescue_session.extend")
    except services.OperationRefused as refused:
        return _refused(request, op, refused)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        if "minutes" in form.errors:  # not one of the offered steps: forged, recorded
            record("rescue_session.extend", "denied", request=request, device=op.device, operation_id=op.pk,
                   reason=problems)
        messages.error(request, f"The session was not extended. {problems}")
        return redirect("workflows:operation", pk=op.pk)
    try:
        op = services.extend(request.user, op, form.cleaned_data["minutes"], form.cleaned_data["reason"])
    except services.OperationRefused as refused:
        return _refused(request, op, refused)
    messages.success(request, f"Extended: the session now ends at {op.ends_at:%H:%M} UTC.")
    return redirect("workflows:operation", pk=op.pk)


@require_POST
def back_from_inside(request, pk: int):
    op = _session_for(request, pk)
    try:
        services.back_from_inside(request.user, op)
    except services.OperationRefused as refused:
        return _refused(request, op, refused)
    messages.success(request, f"{op.device} is back to normal: the rescue session is closed. Nothing was sent "
                              "to SoftLayer.")
    return redirect("devices:detail", pk=op.device_id)


@never_cache
@require_POST
@sensitive_post_parameters("password", "code")
@sensitive_variables("credentials")
def reveal_password(request, pk: int):
    """Re-authenticate if needed, audit, then fetch from the provider and show once; nothing kept."""
    device = device_detail(request.user, pk)
    try:
        services.check_may_reveal(request.user, device)
    except services.OperationRefused as refused:
        if refused.why == Why.NOT_ALLOWED:
            raise PermissionDenied(refused.reason) from None
        return render(request, "workflows/_password.html", {"device": device, "refused": refused.reason}, status=409)
    if factors.has_second_factor(request.user):
        if not factors.is_fresh(request):  # step-up: a second factor proved in the last STEP_UP_MINUTES
            if "code" not in request.POST:
                return render(request, "workflows/_reauth.html", {"device": device, "second_factor": True})
            try:
                factors.verify_code(request, request.POST["code"], purpose="reveal")
            except factors.FactorError as refused:
                return render(request, "workflows/_reauth.html",
                              {"device": device, "second_factor": True, "error": str(refused)}, status=403)
    elif time.time() - request.session.get("reauth_at", 0) >= settings.REVEAL_REAUTH_MINUTES * 60:
        form = ReauthForm(request.POST if "password" in request.POST else None)
        if not form.is_bound or not form.is_valid():
            return render(request, "workflows/_reauth.html", {"device": device, "form": form})
        if not account_services.reauthenticate(request, form.cleaned_data["password"]):
            record("auth.reauth_failed", "failed", request=request, device=device)
            form.add_error("password", "That is not your password.")
            return render(request, "workflows/_reauth.html", {"device": device, "form": form}, status=403)
        request.session["reauth_at"] = time.time()
    try:
        credentials, reveal_seq = services.reveal_passwords(request.user, device)
    except services.OperationRefused as refused:
        if refused.why != Why.UNAVAILABLE:  # the device left rescue meanwhile
            return render(request, "workflows/_password.html", {"device": device, "refused": refused.reason},
                          status=409)
        return render(request, "workflows/_password.html", {"device": device, "error": refused.reason})
    receipt = secrets.token_urlsafe(16)
    kept = list(request.session.get(RECEIPTS, {}).items())[-(MAX_RECEIPTS - 1):]
    request.session[RECEIPTS] = dict([*kept, (receipt, [device.pk, reveal_seq])])
    return render(request, "workflows/_password.html", {"device": device, "credentials": credentials,
                                                          "receipt": receipt})


RECEIPTS, MAX_RECEIPTS = "reveal_receipts", 5


@require_POST
def password_shown(request, pk: int):
    """The page that received a revealed password says it shows it: quoted once, by the session that
    was given the receipt. Anything else changes nothing (no row: a replay cannot add to the trail)."""
    device = device_detail(request.user, pk)
    receipts = request.session.get(RECEIPTS, {})
    given = receipts.pop(request.POST.get("receipt", ""), None)
    if given is None or given[0] != device.pk:
        return HttpResponseBadRequest("This receipt is not one the portal gave for this device, or it was used.",
                                      content_type="text/plain")
    request.session[RECEIPTS] = receipts
    services.password_shown(request.user, device, given[1])
    return HttpResponse(status=204)


# --- Bulk rescue -----------------------------------------------------------------------------------------

def _batch_devices(request) -> tuple[list[Device], str]:
    """The devices a bulk page is about: those ticked, or all matching the Device List's filter
    (bounded). Ids outside the user's access are dropped, as if they did not exist."""
    from django.http import QueryDict

    from devices.filters import DeviceFilter
    from devices.selectors import device_list

    visible = device_list(request.user)
    if request.GET.get("all") == "1":
        matching = DeviceFilter(QueryDict(request.GET.get("filter", "")), queryset=visible).qs
    else:
        ids = [int(pk) for pk in request.GET.getlist("device") if is_device_id(pk)][: settings.BULK_MAX_DEVICES + 1]
        matching = visible.filter(pk__in=ids)
    devices = list(matching.order_by("fqdn", "pk")[: settings.BULK_MAX_DEVICES + 1])
    if not devices:
        return [], "Select at least one device on the Device List (or “all matching this filter”)."
    if len(devices) > settings.BULK_MAX_DEVICES:
        return [], (f"More than {settings.BULK_MAX_DEVICES} devices were selected; a batch takes at most "
                    f"{settings.BULK_MAX_DEVICES}. Narrow the filter, or tick them one by one.")
    return devices, ""


@require_http_methods(["GET", "POST"])
def batch_new(request, kind: str):
    if kind not in services.BATCH_KINDS:
        raise Http404("Only Rescue mode and Restart are offered for many devices at once.")
    title = Operation.Kind(kind).label
    if request.method == "POST":
        return _batch_request(request, kind)
    devices, problem = _batch_devices(request)
    if problem:
        messages.error(request, problem)
        return redirect("devices:list")
    candidates = selectors.batch_candidates(request.user, devices, kind)
    ready = [c.device.pk for c in candidates if not c.blocker]
    form = BatchForm(user=request.user, kind=kind,
                     initial={"confirmation": batch_token(request.user, kind, [c.device.pk for c in candidates])})
    return render(request, "workflows/batch_confirm.html", {
        "kind": kind, "title": title, "candidates": candidates, "ready": ready, "form": form,
        "question": f"{title} on {len(ready)} device{'s' if len(ready) != 1 else ''} immediately?"})


def _batch_request(request, kind: str):
    form = BatchForm(request.POST, user=request.user, kind=kind)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        if "confirmation" in form.errors or "__all__" in form.errors or "time_limit" in form.errors:
            record(services.EVENTS[kind], "denied", request=request, reason=problems, detail={"batch": True})
        messages.error(request, f"Nothing was requested. {problems}")
        return redirect("devices:list")
    from devices.selectors import device_list

    devices = list(device_list(request.user).filter(pk__in=form.cleaned_data["devices"]).order_by("fqdn", "pk"))
    try:
        batch = services.request_batch(request.user, kind, devices, confirmation=form.cleaned_data["confirmation"]["n"],
                                       reason=form.cleaned_data["reason"],
                                       time_limit_minutes=form.cleaned_data.get("time_limit"))
    except services.OperationRefused as refused:
        messages.error(request, refused.reason)
        return redirect("devices:list")
    asked = sum(1 for item in batch.items.all() if item.operation_id)
    messages.success(request, f"{Operation.Kind(kind).label} requested for {asked} of {len(devices)} devices; "
                              "this page follows each of them.")
    return redirect("workflows:batch", pk=batch.pk)


@require_safe
def batch(request, pk: int):
    found = selectors.batch_for(request.user, pk)
    return render(request, "workflows/batch.html", {"batch": found, "items": selectors.batch_items(found)})


@require_safe
def batch_progress(request, pk: int):
    found = selectors.batch_for(request.user, pk)
    return render(request, "workflows/_batch_items.html", {"batch": found, "items": selectors.batch_items(found)})
