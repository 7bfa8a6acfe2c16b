from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from django_tables2 import RequestConfig

from accounts.refusals import Why

from . import panels, selectors, services
from .filters import DeviceFilter
from .provider import ProviderError
from .tables import DeviceTable


@require_safe
def device_list(request):
    device_filter = DeviceFilter(request.GET, queryset=selectors.device_list(request.user))
    table = DeviceTable(device_filter.qs)
    sortable = {column.name for column in table.columns if column.orderable}
    if request.GET.get("sort", "").removeprefix("-") not in sortable | {""}:  # a forged sort: the default order
        request.GET = request.GET.copy()
        del request.GET["sort"]
    RequestConfig(request, paginate=True).configure(table)
    filters = request.GET.copy()
    for name in ("page", "sort", "per_page"):
        filters.pop(name, None)
    context = {"filter": device_filter, "table": table,
               "list_tools": panels.render_list_tools(request, filters.urlencode(), table.paginator.count),
               "per_page": table.paginator.per_page,
               "per_page_choices": DeviceTable.PER_PAGE_CHOICES, "may_sync": services.may_sync_now(request.user)}
    # Each row's link, without reversing a URL per row (a tenth of the page's time at 25 rows).
    table.detail_prefix = reverse("devices:detail", args=[0]).removesuffix("0/")
    table.pickable = bool(context["list_tools"])  # a tool to act on the selected rows: rows get checkboxes
    if request.htmx and not request.htmx.boosted:
        return render(request, "devices/_results.html", context)
    return render(request, "devices/list.html", {**context, "sync": _sync_status(request)})


@require_safe
def device_detail(request, pk: int):
    device = selectors.device_detail(request.user, pk)
    return render(request, "devices/detail.html", {
        "device": device,
        "rescue_environment": selectors.rescue_environment(device),
        "actions": panels.actions_for(request.user, device),
        "panels": panels.render_panels(request, device),
    })


@require_safe
def device_power(request, pk: int):
    """The live power state, fetched by the device page once it is shown: the page itself never
    waits on SoftLayer."""
    device = selectors.device_detail(request.user, pk)
    power_error = None
    if device.vanished_at is None:
        try:
            services.refresh_power_state(device)
        except ProviderError as exc:
            power_error = exc.message
    return render(request, "devices/_power.html", {"device": device, "power_error": power_error, "live": True})


@require_POST
def sync_now(request):
    try:
        services.request_sync(request.user)
    except services.SyncRefused as refused:
        if refused.why == Why.NOT_ALLOWED:
            raise PermissionDenied(refused.reason) from None
        messages.warning(request, refused.reason)
        return redirect("devices:list")
    request.session[SYNC_ASKED] = timezone.now().isoformat()
    messages.info(request, "Inventory sync started. The line beside “Sync now” says when it has finished; the "
                           "list then shows new and changed devices by itself.")
    return redirect("devices:list")


SYNC_ASKED = "inventory_sync_asked_at"


def _sync_status(request) -> selectors.SyncStatus:
    asked = request.session.get(SYNC_ASKED)
    status = selectors.sync_status(datetime.fromisoformat(asked) if asked else None)
    if status.just_finished or status.overdue:
        del request.session[SYNC_ASKED]
    return status


@require_safe
def sync_status(request):
    """The line beside "Sync now", polled while a sync this person asked for runs; the answer that
    sees it finished tells the list to show the new rows (HX-Trigger)."""
    status = _sync_status(request)
    response = render(request, "devices/_sync_status.html", {"sync": status})
    if status.just_finished:
        response["HX-Trigger"] = "inventory-synced"
    return response
