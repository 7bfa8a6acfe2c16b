"""/health/live, /health/ready and /metrics: for load balancers, orchestrators and Prometheus.

Anonymous callers learn only whether the portal is up or ready; the account owner (signed in) or
a caller with METRICS_TOKEN sees each check, and only they may scrape the metrics."""

import asyncio
import hmac

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST

from . import health, metrics


def _has_metrics_token(request) -> bool:
    expected = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def may_see_detail(request) -> bool:
    user = getattr(request, "user", None)
    return _has_metrics_token(request) or bool(user and user.is_authenticated and user.is_active
                                               and user.is_account_owner)


@login_not_required
@never_cache
@require_safe
def live(request):
    """The process answers: nothing else is asked (a database outage must not get it restarted)."""
    return JsonResponse({"status": "ok"})


class Readiness(HealthCheckView):
    checks = health.READINESS

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        ready = not any(result.error for result in results)
        body: dict = {"status": "ready" if ready else "unavailable"}
        if await sync_to_async(may_see_detail)(request):
            body["checks"] = {repr(r.check): {"ok": not r.error, "seconds": round(r.time_taken, 3),
                                              **({"error": str(r.error)} if r.error else {})} for r in results}
        response = JsonResponse(body, status=200 if ready else 503)
        add_never_cache_headers(response)
        return response


ready = login_not_required(Readiness.as_view())


@login_not_required
@never_cache
@require_safe
def metrics_view(request):
    if not may_see_detail(request):
        response = HttpResponse("Metrics need METRICS_TOKEN (Authorization: Bearer …) or the account owner's "
                                "session.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
