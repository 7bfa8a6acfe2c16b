"""/health/live, /health/ready and /metrics: for load balancers, orchestrators and Prometheus.

Anonymous callers learn only whether the portal is up or ready; the account owner (signed in) or
a caller with METRICS_TOKEN sees each check, and only they may scrape the metrics."""

import hmac
import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.exceptions import HealthCheckException
from prometheus_client import CONTENT_TYPE_LATEST

from . import health, metrics

log = logging.getLogger(__name__)


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


def _run(check) -> dict:
    """One check, timed; its message only if it failed (django-health-check's exceptions)."""
    started = time.monotonic()
    try:
        check.run()
        error = ""
    except HealthCheckException as exc:
        error = str(exc)
    except Exception:
        log.exception("Readiness check %r failed", check)
        error = "The check failed unexpectedly (see the log)."
    return {"ok": not error, "seconds": round(time.monotonic() - started, 3), **({"error": error} if error else {})}


@login_not_required
@never_cache
@require_safe
def ready(request):
    """Run synchronously: the checks are quick, and an event loop is not always ours to start."""
    results = {repr(check): _run(check) for check in (cls() for cls in health.READINESS)}
    ready_now = all(r["ok"] for r in results.values())
    body: dict = {"status": "ready" if ready_now else "unavailable"}
    if may_see_detail(request):
        body["checks"] = results
    return JsonResponse(body, status=200 if ready_now else 503)





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
